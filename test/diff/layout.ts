// Guest address layout and the binary record formats shared with
// native/harness.c (keep the two in step).

export const CODE_BASE = 0x100000;
export const CODE_SIZE = 0x10000;
export const CODE_ENTRY = CODE_BASE + 0x8000;
export const DATA_WIN = 0x208000;
export const STACK_WIN = 0x308000;
export const WIN_SIZE = 256;
/**
 * The whole scratch area a case may touch: 64 KiB of data around DATA_WIN
 * and 128 KiB of stack around STACK_WIN (AMD's ENTER probes the new stack
 * top). Outside the two windows it holds a fixed background pattern; every
 * byte of it is compared after every case (scratch.ts).
 */
export const DATA_BASE = 0x200000, DATA_SIZE = 0x10000;
export const STACK_BASE = 0x2f0000, STACK_SIZE = 0x20000;

export const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
export const STATUS_FLAGS = CF | PF | AF | ZF | SF | OF;
/** RFLAGS bits a case's input sets at random: the status flags and DF (user code can also flip ID, see gen.ts). */
export const COMPARED_FLAGS = STATUS_FLAGS | DF;
/** Every RFLAGS bit compared by default: the whole low 32 bits (reserved bits must read 0, bit 1 must read 1). */
export const ALL_FLAGS = 0xffffffff;

export const REG_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export interface Patch { addr: number; bytes: Uint8Array }

/** One generated case: everything needed to run it on either side. */
export interface CaseInput {
  code: Uint8Array;
  memSeed: number;
  gpr: BigUint64Array;    // 16: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15
  rflags: number;         // includes bit 1 and IF
  xmm: Uint8Array;        // 256 bytes, XMM0..15
  patches: Patch[];       // at most 4, each inside a window, ≤16 bytes
  target: number;         // a branch target the instruction may go to (0 = none); the fall-through is implied
  fsBase?: bigint;        // FS and GS segment bases: set for the case when either is given (0 is a base too)
  gsBase?: bigint;
  mode?: 32;              // run in 32-bit compatibility mode (default: 64-bit)
}

export interface CaseResult {
  vector: number;         // -1 completed, else exception vector
  gpr: bigint[];
  rip: bigint;
  rflags: number;
  xmm: Uint8Array;        // 256
  data: Uint8Array;       // WIN_SIZE bytes at DATA_WIN
  stack: Uint8Array;      // WIN_SIZE bytes at STACK_WIN
  scratch: ScratchSummary;
}

/** Scratch bytes outside the windows that differ from the background after a case. */
export interface ScratchSummary { count: number; first: number; last: number; hashA: number; hashB: number }

export const IN_SIZE = 552;
export const OUT_SIZE = 944;
/** Offset in a result record of the summary of scratch bytes outside the windows (scratch.ts). */
export const OUT_SCRATCH = 920;

/** Pack cases for the native harness; `codeMax` is its CODE_MAX (16, or what seq.ts builds it with). */
export function packInputs(cases: CaseInput[], codeMax = 16): Buffer {
  const size = IN_SIZE - 16 + codeMax, d = codeMax - 16;
  const buf = Buffer.alloc(cases.length * size);
  cases.forEach((c, k) => {
    const o = k * size;
    if (c.code.length > codeMax) throw new Error(`code longer than ${codeMax} bytes`);
    buf.set(c.code, o);
    buf.writeUInt32LE(c.code.length, o + d + 16);
    buf.writeUInt32LE(c.memSeed >>> 0, o + d + 20);
    buf.set(new Uint8Array(c.gpr.buffer, c.gpr.byteOffset, 128), o + d + 24);
    buf.writeBigUInt64LE(BigInt(c.rflags >>> 0), o + d + 152);
    buf.set(c.xmm, o + d + 160);
    if (c.patches.length > 4) throw new Error('too many patches');
    c.patches.forEach((p, j) => {
      const po = o + d + 416 + 24 * j;
      buf.writeUInt32LE(p.addr, po);
      buf.writeUInt32LE(p.bytes.length, po + 4);
      buf.set(p.bytes, po + 8);
    });
    // Exit addresses: the native harness plants a fast exit stub at each.
    buf.writeBigUInt64LE(BigInt(CODE_ENTRY + c.code.length), o + d + 512);
    buf.writeBigUInt64LE(BigInt(c.target), o + d + 520);
    buf.writeBigUInt64LE(BigInt.asUintN(64, c.fsBase ?? 0n), o + d + 528);
    buf.writeBigUInt64LE(BigInt.asUintN(64, c.gsBase ?? 0n), o + d + 536);
    // Flags: 1 = set the FS/GS bases, 2 = 32-bit compatibility mode.
    buf.writeBigUInt64LE((c.fsBase !== undefined || c.gsBase !== undefined ? 1n : 0n) | (c.mode === 32 ? 2n : 0n), o + d + 544);
  });
  return buf;
}

export function readScratch(buf: Buffer, o: number): ScratchSummary {
  const q = o + OUT_SCRATCH;
  return { count: buf.readUInt32LE(q), first: buf.readUInt32LE(q + 4), last: buf.readUInt32LE(q + 8), hashA: buf.readUInt32LE(q + 12), hashB: buf.readUInt32LE(q + 16) };
}

export function unpackResult(buf: Buffer, k: number): CaseResult {
  const o = k * OUT_SIZE;
  const gpr: bigint[] = [];
  for (let i = 0; i < 16; i++) gpr.push(buf.readBigUInt64LE(o + 8 + 8 * i));
  return {
    vector: buf.readInt32LE(o),
    gpr,
    rip: buf.readBigUInt64LE(o + 136),
    rflags: Number(buf.readBigUInt64LE(o + 144) & 0xffffffffn),
    xmm: new Uint8Array(buf.subarray(o + 152, o + 408)),
    data: new Uint8Array(buf.subarray(o + 408, o + 664)),
    stack: new Uint8Array(buf.subarray(o + 664, o + 920)),
    scratch: readScratch(buf, o),
  };
}

/** The initial data and stack windows (same xorshift32 as the harness), with patches applied. */
export function initialWindows(c: CaseInput): { data: Uint8Array; stack: Uint8Array } {
  let s = (c.memSeed >>> 0) || 0x9e3779b9;
  const data = new Uint8Array(WIN_SIZE), stack = new Uint8Array(WIN_SIZE);
  for (const w of [data, stack]) {
    const dv = new DataView(w.buffer);
    for (let i = 0; i < WIN_SIZE; i += 4) {
      s = (s ^ (s << 13)) >>> 0;
      s = (s ^ (s >>> 17)) >>> 0;
      s = (s ^ (s << 5)) >>> 0;
      dv.setUint32(i, s, true);
    }
  }
  for (const p of c.patches) {
    if (p.addr >= DATA_WIN && p.addr + p.bytes.length <= DATA_WIN + WIN_SIZE) data.set(p.bytes, p.addr - DATA_WIN);
    else if (p.addr >= STACK_WIN && p.addr + p.bytes.length <= STACK_WIN + WIN_SIZE) stack.set(p.bytes, p.addr - STACK_WIN);
    else throw new Error(`patch at ${p.addr.toString(16)} outside the windows`);
  }
  return { data, stack };
}
