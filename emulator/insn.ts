// Our compact, cached form of one decoded instruction. Every field is a
// small integer so the objects stay monomorphic; the handler reads what it
// needs through the accessors in ops/operands.ts.
import type { Cpu } from './cpu.ts';

export type Handler = (c: Cpu, i: Insn) => void;

export class Insn {
  /** The handler (the block compiler recognises it by identity and calls it). */
  exec: Handler = noHandler;
  /** The handler the interpreter calls: `exec` or a form of it specialised to this instruction's operands (specialize.ts). */
  run: Handler = noHandler;
  /** iced-x86 Code, for diagnostics and the dispatch table. */
  code = 0;
  /** Address of this instruction (RIP/EIP, i.e. the CS offset) and of the next one. */
  ripLo = 0; ripHi = 0;
  nextLo = 0; nextHi = 0;
  len = 0;
  /** Operand size in bits (8, 16, 32, 64) of the main operation. */
  size = 0;
  /** Register operands by position: GPR index 0-15 (8-bit: 16-19 are AH CH DH BH), XMM, segment, CR or DR index; -1 for memory, -2 for none/immediate. */
  a = -2; b = -2; c = -2;
  /** Memory operand: base/index GPR (-1 none), scale as a shift, displacement halves, segment (-1: no base applies), address size. */
  base = -1; index = -1; scale = 0; dispLo = 0; dispHi = 0; seg = -1; asize = 64;
  /**
   * Memory operand: its size in bytes (0: none or not checked) and how it is
   * accessed (MEM_READ, MEM_WRITE; MEM_SS: SS-relative, e.g. based on RSP/RBP),
   * for segment limit/type checks, #AC and #SS (segcheck.ts).
   */
  msize = 0; mflags = 0;
  /** Immediate (sign- or zero-extended as the form says) and a second immediate (enter, far branches). */
  immLo = 0; immHi = 0; imm2 = 0;
  /** Branch target (near) as halves. */
  tLo = 0; tHi = 0;
  /** Small per-form parameter: ALU op number, condition code, rep kind, … */
  op = 0;
  /**
   * Arithmetic flags this instruction reads and always (re)defines, as iced
   * RflagsBits (OF 1, SF 2, ZF 4, AF 8, CF 16, PF 32). The block compiler
   * skips computing flags nobody reads before they are overwritten.
   */
  flagsRead = 63; flagsWrite = 0;
  /** Position in its block (blocks always run from their first instruction). */
  pos = 0;
  /** The next instruction of its block, null for the last. */
  next: Insn | null = null;
  /**
   * How the interpreter runs a whole block: the handler it calls here (`run`, or one that runs this instruction
   * and the next: ops/fastfuse.ts) and where it goes on (`next`, or the one after the pair).
   */
  go: Handler = noHandler;
  after: Insn | null = null;
  /**
   * The interpreter's walk names this instruction in the Cpu's `cur` before `go` (a fault, a write record or the
   * clock needs it). False for register-only handlers, which can do none of these, and for handlers that name
   * themselves off their fast path (ops/fastmove.ts): storing an object into the Cpu costs a write barrier, a call
   * into the GC's remembered set while the instruction is newly decoded.
   */
  named = true;
  /** Raw bytes, for messages and traces. */
  bytes: Uint8Array = EMPTY;
}

/** MEM_UNRESOLVED: 64-bit code, read/write not worked out yet (decode.ts resolveMemAccess). */
export const MEM_READ = 1, MEM_WRITE = 2, MEM_SS = 4, MEM_UNRESOLVED = 8;

const EMPTY = new Uint8Array(0);

function noHandler(): void {
  throw new Error('instruction without a handler');
}

/** A run of instructions decoded from one linear start address in one mode. */
export class Block {
  constructor(
    readonly ripLo: number,
    readonly ripHi: number,
    /** Linear address of the first byte (CS base + RIP). */
    readonly linLo: number,
    readonly linHi: number,
    /** Decode mode key: code size bits | paging/segment-base epoch. */
    readonly modeKey: number,
    readonly insns: Insn[],
    /** Physical frames (4 KiB page numbers) the bytes came from. */
    readonly frames: number[],
    /** Physical address of the first byte. */
    readonly physStart: number,
  ) {}
  valid = true;
  /** Times the interpreter ran this block; at a threshold it is compiled. */
  hits = 0;
  /** An execution breakpoint is set at this block's start (blocks are re-cut when breakpoints change). */
  atBreakpoint = false;
  /** Every byte of its instructions is zero (`add %al,(%rax)` …): code run into memory that holds none. */
  zeroFilled = false;
  /** The two blocks execution went to from here most recently (see BlockCache.lookup). */
  succ1: Block | null = null;
  succ2: Block | null = null;
  /** The compiled form (compile.ts), once hot. */
  compiled: ((c: Cpu) => number) | null = null;
  /** Cpu.checks bits the compiled form cannot honour (compile.ts inlineCheckMask): it runs only when none is set. */
  checkMask = -1;
  /** The most instructions one call of the compiled form can retire (it may go on into a successor block): the budget it needs. */
  span = 0;
}
