// A xenctx-style dump of a stopped CPU: RIP with symbol+offset, the general
// registers, RFLAGS decoded, segments, control registers, and the code
// around RIP with the instruction at RIP marked and disassembled.
import { disassemble, type Cpu, type CpuState } from '../../emulator/index.ts';
import { Decoder, DecoderOptions, Code } from '../../emulator/iced.ts';
import { codeByte } from './guestCode.ts';

const FLAG_NAMES: [number, string][] = [[0x1, 'CF'], [0x4, 'PF'], [0x10, 'AF'], [0x40, 'ZF'], [0x80, 'SF'], [0x100, 'TF'], [0x200, 'IF'], [0x400, 'DF'], [0x800, 'OF'], [0x4000, 'NT'], [0x10000, 'RF'], [0x20000, 'VM'], [0x40000, 'AC'], [0x200000, 'ID']];
const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

function hex(v: bigint | number, w = 16): string { return BigInt.asUintN(64, BigInt(v)).toString(16).padStart(w, '0'); }

export function decodeFlags(f: number): string {
  const set = FLAG_NAMES.filter(([b]) => f & b).map(([, n]) => n);
  return `${set.join(' ') || '-'} IOPL=${(f >> 12) & 3}`;
}

export interface CodeWindow { start: bigint; bytes: Uint8Array; ripOffset: number; disassembly: string[] }

/** Code bytes around RIP (as far as they are mapped) and the disassembly from RIP on. */
export function codeAround(c: Cpu, rip: bigint, before = 16, after = 16): CodeWindow | null {
  const cr2Lo = c.cr2Lo, cr2Hi = c.cr2Hi;
  const pre: number[] = [], post: number[] = [];
  try {
    for (let k = 1; k <= before; k++) { const b = codeByte(c, rip, -k); if (b === null) break; pre.unshift(b); }
    for (let k = 0; k < after; k++) { const b = codeByte(c, rip, k); if (b === null) break; post.push(b); }
  } finally {
    c.cr2Lo = cr2Lo; c.cr2Hi = cr2Hi; // probing must not disturb the state being reported
  }
  if (post.length === 0) return null;
  const bytes = Uint8Array.from([...pre, ...post]);
  const disassembly: string[] = [];
  let off = pre.length;
  for (let n = 0; n < 4 && off < bytes.length; n++) {
    const at = rip + BigInt(off - pre.length);
    const d = new Decoder(c.codeBits, bytes.subarray(off), DecoderOptions.None);
    const ins = d.decode();
    const len = ins.length;
    const bad = ins.code === Code.INVALID;
    ins.free(); d.free();
    disassembly.push(`${hex(at)}: ${disassemble(bytes.subarray(off), c.codeBits, at)}`);
    if (bad || len <= 0) break;
    off += len;
  }
  return { start: rip - BigInt(pre.length), bytes, ripOffset: pre.length, disassembly };
}

/** The dump as text. */
export function formatDump(s: CpuState, symbols: { describe(addr: bigint): string } | null, code: CodeWindow | null): string {
  const L: string[] = [];
  const where = symbols ? ` <${symbols.describe(s.rip)}>` : '';
  L.push(`rip: ${hex(s.rip)}${where}`);
  L.push(`flags: ${hex(s.rflags, 8)} ${decodeFlags(s.rflags)}   cpl ${s.cpl}, ${s.mode}, paging ${s.paging}`);
  for (let k = 0; k < GPRS.length; k += 2) L.push(`${GPRS[k]!.padEnd(3)}: ${hex(s.gpr[GPRS[k]!]!)}   ${GPRS[k + 1]!.padEnd(3)}: ${hex(s.gpr[GPRS[k + 1]!]!)}`);
  L.push(`cs: ${hex(s.segments[1]!.sel, 4)}  ds: ${hex(s.segments[3]!.sel, 4)}  es: ${hex(s.segments[0]!.sel, 4)}  fs: ${hex(s.segments[4]!.sel, 4)} @ ${hex(s.segments[4]!.base)}  gs: ${hex(s.segments[5]!.sel, 4)} @ ${hex(s.segments[5]!.base)}  ss: ${hex(s.segments[2]!.sel, 4)}`);
  L.push(`cr0: ${hex(s.cr0, 8)}  cr2: ${hex(s.cr2)}  cr3: ${hex(s.cr3)}  cr4: ${hex(s.cr4, 8)}  efer: ${hex(s.efer, 8)}`);
  L.push(`gdt: ${hex(s.gdtr.base)}/${hex(s.gdtr.limit, 4)}  idt: ${hex(s.idtr.base)}/${hex(s.idtr.limit, 4)}  tr: ${hex(s.tr.sel, 4)}`);
  if (code) {
    const b = Array.from(code.bytes, (x, k) => (k === code.ripOffset ? `<${hex(x, 2)}>` : hex(x, 2)));
    L.push(`code: ${b.join(' ')}`);
    for (const d of code.disassembly) L.push(`      ${d}`);
  } else L.push('code: (not mapped)');
  L.push(`instructions retired: ${s.icount}`);
  return L.join('\n') + '\n';
}
