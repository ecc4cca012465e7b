// The registers gdb sees, in 'g' packet order: the x86-64 layout QEMU uses
// (66 registers, 608 bytes), always, whatever mode the guest runs in: gdb
// cannot take a change of register sizes in the middle of a session.
// Register i here is register number i in p/P packets and the target XML.

/** The target-description feature a register is declared in (targetXml.ts). */
export type RegisterFeature = 'core' | 'sse' | 'segments' | 'system';

export interface RegisterInfo {
  name: string;
  /** Bytes in the 'g' packet and in readRegister/writeRegister. */
  size: number;
  /** gdb type: a predefined one (int64, code_ptr, i387_ext…) or one targetXml.ts defines (i386_eflags, vec128…). */
  type: string;
  /** gdb register group, when not the one gdb infers (general for integers). */
  group?: 'general' | 'float' | 'vector' | 'system';
  feature: RegisterFeature;
}

const reg = (name: string, size: number, type: string, feature: RegisterFeature, group?: RegisterInfo['group']): RegisterInfo =>
  group === undefined ? { name, size, type, feature } : { name, size, type, feature, group };

const gprs = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const gprType = (n: string) => (n === 'rbp' || n === 'rsp' ? 'data_ptr' : 'int64');

export const REGISTERS: readonly RegisterInfo[] = [
  ...gprs.map((n) => reg(n, 8, gprType(n), 'core', 'general')),
  reg('rip', 8, 'code_ptr', 'core', 'general'),
  reg('eflags', 4, 'i386_eflags', 'core', 'general'),
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => reg(n, 4, 'int32', 'core', 'general')),
  reg('fs_base', 8, 'int64', 'segments', 'general'),
  reg('gs_base', 8, 'int64', 'segments', 'general'),
  reg('k_gs_base', 8, 'int64', 'system', 'system'),
  reg('cr0', 8, 'x64_cr0', 'system', 'system'),
  reg('cr2', 8, 'int64', 'system', 'system'),
  reg('cr3', 8, 'int64', 'system', 'system'),
  reg('cr4', 8, 'x64_cr4', 'system', 'system'),
  reg('cr8', 8, 'int64', 'system', 'system'),
  reg('efer', 8, 'x64_efer', 'system', 'system'),
  ...Array.from({ length: 8 }, (_, k) => reg(`st${k}`, 10, 'i387_ext', 'core', 'float')),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((n) => reg(n, 4, 'int', 'core', 'float')),
  ...Array.from({ length: 16 }, (_, k) => reg(`xmm${k}`, 16, 'vec128', 'sse', 'vector')),
  reg('mxcsr', 4, 'i386_mxcsr', 'sse', 'vector'),
];

/** Byte offset of each register in the 'g' packet. */
export const REGISTER_OFFSETS: readonly number[] = REGISTERS.reduce<number[]>((acc, r, k) => { acc.push(k === 0 ? 0 : acc[k - 1]! + REGISTERS[k - 1]!.size); return acc; }, []);

/** Bytes of all registers: the 'g' packet size (608). */
export const REGISTER_BYTES = REGISTERS.reduce((n, r) => n + r.size, 0);

const BY_NAME = new Map(REGISTERS.map((r, k) => [r.name, k]));

/** The number of a register by name, or -1. */
export function registerIndex(name: string): number { return BY_NAME.get(name) ?? -1; }
