// Multi-instruction sequences for the differential suite: a generated body
// of mixed flag producers and consumers (add/sub/adc/sbb/cmp/test/logic,
// inc/dec/neg, shifts and rotates by constants and by cl, imul; setcc,
// cmovcc, jcc forward skips, adc/sbb/rcl/rcr consuming CF), partial-register
// writes (8/16-bit, AH..BH) and memory forms, run as a loop of N iterations
// natively and in the core, so the block compiler's flag liveness, its
// compare-and-branch shortcuts and its handling of flags across blocks and
// the loop's back edge are checked against the host CPU.
//
// Layout at CODE_ENTRY:  top: body; loop top   (or lea rcx,[rcx-1]; jrcxz end; jmp top)
// RCX is the loop counter (a source, never a destination), R14 points into
// the data window and R13 holds a small index (both never written), RSP
// stays in the stack window (push/pop come in balanced pairs). The
// generator tracks which status flags are defined (Intel SDM ∩ AMD APM) at
// each point, over jcc joins and the back edge, and emits a consumer only
// for defined flags; the body ends with every status flag defined, so the
// final RFLAGS is compared whole.
//
// Case n under seed S is a pure function of (S, n):  npx tsx test/diff/seq.ts <n> [seed]
// prints one case's code, disassembly and the host/core results.

import { Decoder, DecoderOptions, Formatter, FormatterSyntax } from 'iced-x86';
import { Cpu, FlatMemory, Stop } from '../../emulator/index.ts';
import { WasmMachine } from '../../emulator/jit/wasm/machine.ts';
import { encode, type EncodeSpec, type Mem } from './encode.ts';
import type { Case } from './generate.ts';
import type { Form } from './forms/common.ts';
import {
  AF, CF, CODE_BASE, CODE_ENTRY, CODE_SIZE, ALL_FLAGS, COMPARED_FLAGS, DATA_WIN, OF, PF, SF, STACK_WIN, WIN_SIZE, ZF,
  type CaseInput,
} from './layout.ts';
import { Rng } from './rng.ts';
import { loadCase, writeResult } from './core.ts';
import { fillScratch } from './scratch.ts';

/** CODE_MAX the native harness is built with for sequences. */
export const SEQ_CODE_MAX = 1024;

const ALL = CF | PF | AF | ZF | SF | OF;
const RCX = 1, RSP = 4, IDX = 13, BASE = 14;
/** Registers the body may write. */
const DESTS = [0, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 15];
/** Flags each condition code reads. */
const CC_FLAGS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, SF | ZF | OF, SF | ZF | OF];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

type Size = 8 | 16 | 32 | 64;
/** An operand: a register (enc, with AH..BH as 4..7 when legacy) or a memory location in the data window. */
type Opnd = { kind: 'reg'; enc: number; legacy: boolean } | { kind: 'mem'; addr: number };

export interface SeqCase {
  id: string;
  index: number;
  input: CaseInput;
  /** Disassembly of the body, one instruction per entry. */
  listing: string[];
  iterations: number;
}

class SeqGen {
  readonly rng: Rng;
  readonly bytes: number[] = [];
  readonly listing: string[] = [];
  /** Defined status flags at the current point. */
  defined = ALL;
  readonly gpr = new BigUint64Array(16);
  baseVal = 0;
  idxVal = 0;

  constructor(seed: number, index: number) {
    this.rng = new Rng(seed, 'seq', index);
  }

  get off(): number { return this.bytes.length; }

  /** Encode at the current offset (rip-relative targets are adjusted for the position). */
  emit(s: EncodeSpec): void {
    const rm = s.rm && 'mem' in s.rm && s.rm.mem.rip ? { mem: { ...s.rm.mem, rip: { target: s.rm.mem.rip.target - this.off } } } : s.rm;
    const b = encode({ ...s, ...(rm ? { rm } : {}) });
    this.bytes.push(...b);
  }

  size(): Size { return this.rng.pick([8, 16, 32, 32, 64, 64, 64] as const); }
  /** The few registers this sequence mostly works on (dependencies between instructions, re-writes of one register). */
  pool: number[] = DESTS;
  dest(): number { return this.rng.bool(0.85) ? this.rng.pick(this.pool) : this.rng.pick(DESTS); }
  src(): number {
    if (this.rng.bool(0.6)) return this.rng.pick(this.pool);
    const r = this.rng.int(16);
    return r === RSP ? RCX : r;
  }

  /** A data-window address for `bytes` bytes, reachable from R14 (+disp8) and R14+R13*scale. */
  addr(bytes: number): number {
    return DATA_WIN + 16 + this.rng.int(WIN_SIZE - 32 - bytes);
  }

  /** A memory operand at addr: [r14+disp8], [r14+r13*s+disp8], [disp32] or [rip+disp32]; legacy = no REX allowed. */
  mem(addr: number, legacy: boolean): Mem {
    const r = this.rng;
    const mode = legacy ? 2 + r.int(2) : r.int(4);
    const ds = (d: number) => (d >= -128 && d <= 127 && r.bool(0.8) ? 8 : 32) as 8 | 32;
    if (mode === 0) { const disp = addr - this.baseVal; return { base: BASE, index: null, scale: 1, disp, dispSize: ds(disp), addr32: false }; }
    if (mode === 1) {
      const scale = r.pick([1, 2, 4, 8] as const);
      const disp = addr - this.baseVal - this.idxVal * scale;
      return { base: BASE, index: IDX, scale, disp, dispSize: ds(disp), addr32: false };
    }
    if (mode === 2) return { base: null, index: null, scale: 1, disp: addr, dispSize: 32, addr32: false };
    return { base: null, index: null, scale: 1, disp: 0, dispSize: 32, addr32: false, rip: { target: addr } };
  }

  /** Prefix/REX fields of an operand size. */
  sz(size: Size): Pick<EncodeSpec, 'prefixes' | 'rexW'> {
    return size === 16 ? { prefixes: [0x66] } : size === 64 ? { rexW: true } : {};
  }

  /**
   * A destination (or source) r/m operand of `size`: register (writable
   * unless `read`) or memory with probability pMem. 8-bit registers: REX
   * forms (SPL..DIL, R8B..) or legacy (AH..BH) ones.
   */
  rm(size: Size, pMem: number, read = false): Opnd {
    if (this.rng.bool(pMem)) return { kind: 'mem', addr: this.addr(size / 8) };
    if (size === 8 && this.rng.bool(0.3)) {
      // Legacy byte registers: AL CL DL BL AH CH DH BH (CL/CH only as sources: RCX is the counter).
      const cands = read ? [0, 1, 2, 3, 4, 5, 6, 7] : [0, 2, 3, 4, 6, 7];
      return { kind: 'reg', enc: this.rng.pick(cands), legacy: true };
    }
    return { kind: 'reg', enc: read ? this.src() : this.dest(), legacy: false };
  }

  spec(op: Opnd): { rm: EncodeSpec['rm']; legacy: boolean } {
    if (op.kind === 'reg') return { rm: { reg: op.enc }, legacy: op.legacy };
    return { rm: { mem: this.mem(op.addr, false) }, legacy: false };
  }

  /** A ModRM instruction: r/m operand `op`, reg field `reg` (a register or /n), 8-bit rules applied. */
  modrm(size: Size, opcode: number[], op: Opnd, reg: number, regIsGpr: boolean, regLegacy: boolean, extra: Partial<EncodeSpec> = {}): void {
    const legacy = (op.kind === 'reg' && op.legacy) || (regIsGpr && regLegacy);
    const rm: EncodeSpec['rm'] = op.kind === 'reg' ? { reg: op.enc } : { mem: this.mem(op.addr, legacy) };
    const forceRex = size === 8 && !legacy && ((op.kind === 'reg' && op.enc >= 4 && op.enc < 8) || (regIsGpr && reg >= 4 && reg < 8));
    this.emit({ ...this.sz(size), opcode, rm, reg, ...(forceRex ? { forceRex: true } : {}), ...(legacy ? { noRex: true } : {}), ...extra });
  }

  /** A register for the reg field of an 8-bit op that must agree with `op`'s legacy/REX choice. */
  reg8(op: Opnd, write: boolean): { reg: number; legacy: boolean } {
    const legacy = op.kind === 'reg' ? op.legacy : this.rng.bool(0.3);
    if (legacy) return { reg: this.rng.pick(write ? [0, 2, 3, 4, 6, 7] : [0, 1, 2, 3, 4, 5, 6, 7]), legacy: true };
    return { reg: write ? this.dest() : this.src(), legacy: false };
  }

  imm(size: Size): { value: bigint; size: 1 | 2 | 4 } {
    const r = this.rng;
    const n = size === 8 ? 1 : size === 16 ? 2 : 4;
    const v = r.bool(0.4) ? BigInt(r.pick([0, 1, -1, 0x7f, -0x80, 0x7fff, -0x8000, 0x7fffffff, -0x80000000, 2, 0xff])) : BigInt(r.u32() | 0);
    return { value: BigInt.asIntN(n * 8, v), size: n as 1 | 2 | 4 };
  }

  // ---- flag producers ------------------------------------------------

  /** add or adc sbb and sub xor cmp (op 0..7), test (op 8). */
  alu(): void {
    const r = this.rng;
    let op = r.int(9);
    if ((op === 2 || op === 3) && !(this.defined & CF)) op = 0;
    const size = this.size();
    const form = r.int(3); // 0 r/m,reg  1 reg,r/m  2 r/m,imm
    const name = op === 8 ? 'test' : ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'][op]!;
    const writes = op !== 7 && op !== 8;
    if (form === 2) {
      const dst = this.rm(size, 0.35, !writes);
      const im = this.imm(size);
      const short = size !== 8 && op !== 8 && r.bool(0.5);
      const opcode = op === 8 ? [size === 8 ? 0xf6 : 0xf7] : [size === 8 ? 0x80 : short ? 0x83 : 0x81];
      const imm = short ? { value: BigInt.asIntN(8, im.value), size: 1 as const } : size === 64 ? { value: im.value, size: 4 as const } : im;
      this.modrm(size, opcode, dst, op === 8 ? 0 : op, false, false, { imm });
    } else {
      const rmOp = this.rm(size, 0.35, form === 1 || !writes);
      const rg = size === 8 ? this.reg8(rmOp, form === 1 && writes) : { reg: form === 1 && writes ? this.dest() : this.src(), legacy: false };
      const test = op === 8;
      const opcode = test ? [size === 8 ? 0x84 : 0x85] : [op * 8 + (size === 8 ? 0 : 1) + (form === 1 ? 2 : 0)];
      this.modrm(size, opcode, rmOp, rg.reg, true, rg.legacy);
    }
    this.note(name);
    this.defined = op === 1 || op === 4 || op === 6 || op === 8 ? (this.defined | ALL) & ~AF : ALL;
  }

  incDecNeg(): void {
    const r = this.rng;
    const size = this.size();
    const k = r.int(3); // inc dec neg
    const dst = this.rm(size, 0.3);
    this.modrm(size, [k === 2 ? (size === 8 ? 0xf6 : 0xf7) : size === 8 ? 0xfe : 0xff], dst, k === 2 ? 3 : k, false, false);
    this.note(['inc', 'dec', 'neg'][k]!);
    this.defined = k === 2 ? ALL : (this.defined & CF) | (ALL & ~CF);
  }

  shift(): void {
    const r = this.rng;
    const size = this.size();
    let op = r.pick([0, 1, 2, 3, 4, 4, 5, 5, 7, 7]);
    if ((op === 2 || op === 3) && !(this.defined & CF)) op = 4;
    const how = r.int(3); // 0 imm8, 1 by 1, 2 by cl
    const dst = this.rm(size, 0.3);
    const base = size === 8 ? 0 : 1;
    let count = -1;
    if (how === 0) {
      count = r.bool(0.6) ? r.pick([0, 1, 2, size - 1, size, size + 1, 31, 32, 33, 63]) : r.int(256);
      this.modrm(size, [0xc0 + base], dst, op, false, false, { imm: { value: count, size: 1 } });
    } else if (how === 1) {
      count = 1;
      this.modrm(size, [0xd0 + base], dst, op, false, false);
    } else {
      this.modrm(size, [0xd2 + base], dst, op, false, false);
    }
    this.note(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'][op]!);
    const rot = op < 4;
    if (count >= 0) {
      const c = count & (size === 64 ? 63 : 31);
      if (c === 0) return;
      let d = this.defined;
      d = c === 1 ? d | OF : d & ~OF;
      d |= CF;
      if (!rot) {
        d = (d | SF | ZF | PF) & ~AF;
        if ((op === 4 || op === 5) && c >= size) d &= ~CF;
      }
      this.defined = d;
    } else {
      // By CL, the loop counter: the masked count may be 0 (flags unchanged), 1 or more.
      let d = this.defined & ~OF;
      if (!rot) {
        d &= ~AF;
        if ((op === 4 || op === 5) && size < 32) d &= ~CF;
      }
      this.defined = d;
    }
  }

  imul(): void {
    const r = this.rng;
    const size = r.pick([16, 32, 64, 64] as const);
    const src = this.rm(size, 0.3, true);
    const dst = this.dest();
    const k = r.int(3);
    if (k === 0) this.modrm(size, [0x0f, 0xaf], src, dst, true, false);
    else if (k === 1) this.modrm(size, [0x6b], src, dst, true, false, { imm: { value: BigInt(r.range(-128, 127)), size: 1 } });
    else { const im = this.imm(size); this.modrm(size, [0x69], src, dst, true, false, { imm: size === 64 ? { value: im.value, size: 4 } : im }); }
    this.note('imul');
    this.defined = (this.defined | CF | OF) & ~(SF | ZF | AF | PF);
  }

  /**
   * A compare-and-branch pair: cmp/sub/test/and/add/inc/dec on 32/64-bit
   * registers whose operands are often equal or straddle each other (the
   * same register twice; RCX, the counter, against a small immediate that it
   * crosses during the loop), then at once a jcc skip, setcc or cmovcc — the
   * shapes the compiler answers from the producer's locals.
   */
  fused(): void {
    const r = this.rng;
    const size = r.pick([32, 64] as const);
    const k = r.int(6);
    if (k <= 2) {
      const op = r.pick([7, 7, 5, 0, 4]); // cmp cmp sub add and
      const d = op === 7 ? (r.bool(0.5) ? RCX : this.src()) : this.dest(); // RCX, R13, R14, RSP are never written
      if (k === 0) { // r, same r  (or a different one)
        const src = r.bool(0.6) ? d : this.src();
        this.modrm(size, [op * 8 + 1], { kind: 'reg', enc: d, legacy: false }, src, true, false);
      } else { // r, small imm (RCX crosses it)
        const v = r.range(-2, 95);
        this.modrm(size, [0x83], { kind: 'reg', enc: d, legacy: false }, op, false, false, { imm: { value: BigInt(v), size: 1 } });
      }
      this.note(['add', '', '', '', 'and', 'sub', '', 'cmp'][op]!);
      this.defined = op === 4 ? (this.defined | ALL) & ~AF : ALL;
    } else if (k === 3) { // test r, r
      const a = r.bool(0.5) ? RCX : this.src();
      this.modrm(size, [0x85], { kind: 'reg', enc: a, legacy: false }, r.bool(0.7) ? a : this.src(), true, false);
      this.note('test');
      this.defined = (this.defined | ALL) & ~AF;
    } else if (k === 4) { // cmp r, [mem] / cmp [mem], r
      const m: Opnd = { kind: 'mem', addr: this.addr(size / 8) };
      this.modrm(size, [r.bool(0.5) ? 0x39 : 0x3b], m, r.bool(0.5) ? RCX : this.src(), true, false);
      this.note('cmp');
      this.defined = ALL;
    } else { // inc/dec r
      this.modrm(size, [0xff], { kind: 'reg', enc: this.dest(), legacy: false }, r.int(2), false, false);
      this.note('inc/dec');
      this.defined = (this.defined & CF) | (ALL & ~CF);
    }
    const c = r.int(3);
    if (c === 0) this.skip();
    else if (c === 1) this.setcc();
    else this.cmovcc();
  }

  // ---- flag consumers ------------------------------------------------

  /** A condition code whose flags are all defined now, or -1. */
  cc(): number {
    const ok: number[] = [];
    for (let cc = 0; cc < 16; cc++) if ((CC_FLAGS[cc]! & ~this.defined) === 0) ok.push(cc);
    return ok.length ? this.rng.pick(ok) : -1;
  }

  setcc(): void {
    const cc = this.cc();
    if (cc < 0) return this.alu();
    const dst = this.rm(8, 0.25);
    this.modrm(8, [0x0f, 0x90 + cc], dst, 0, false, false);
    this.note(`set${CC[cc]}`);
  }

  cmovcc(): void {
    const cc = this.cc();
    if (cc < 0) return this.alu();
    const size = this.rng.pick([16, 32, 32, 64, 64] as const);
    const src = this.rm(size, 0.3, true);
    this.modrm(size, [0x0f, 0x40 + cc], src, this.dest(), true, false);
    this.note(`cmov${CC[cc]}`);
  }

  // ---- moves, partial registers, stack -------------------------------

  move(): void {
    const r = this.rng;
    switch (r.int(6)) {
      case 0: { // mov r/m, r  or  mov r, r/m
        const size = this.size();
        const toMem = r.bool(0.5);
        const op = this.rm(size, 0.4, !toMem);
        const rg = size === 8 ? this.reg8(op, !toMem) : { reg: toMem ? this.src() : this.dest(), legacy: false };
        this.modrm(size, [(size === 8 ? 0x88 : 0x89) + (toMem ? 0 : 2)], op, rg.reg, true, rg.legacy);
        this.note('mov');
        return;
      }
      case 1: { // mov r/m, imm
        const size = this.size();
        const dst = this.rm(size, 0.4);
        const im = this.imm(size);
        this.modrm(size, [size === 8 ? 0xc6 : 0xc7], dst, 0, false, false, { imm: size === 64 ? { value: im.value, size: 4 } : im });
        this.note('mov');
        return;
      }
      case 2: { // movzx / movsx
        const wide = r.bool(0.3);
        const size = r.pick([16, 32, 64] as const);
        const src = this.rm(wide ? 16 : 8, 0.4, true);
        const sx = r.bool(0.5);
        const legacy = src.kind === 'reg' && src.legacy;
        const dst = legacy ? r.pick([0, 2, 3, 6, 7]) : this.dest();
        if (wide && size === 16) { this.move(); return; }
        if (legacy && size === 64) { this.move(); return; } // movzx r64, ah has no encoding
        this.modrm(wide ? 16 : 8, [0x0f, (sx ? 0xbe : 0xb6) + (wide ? 1 : 0)], src, dst, true, legacy, { ...this.sz(size), forceRex: !legacy && !wide && src.kind === 'reg' && src.enc >= 4 && src.enc < 8 ? true : false });
        this.note(sx ? 'movsx' : 'movzx');
        return;
      }
      case 3: { // lea
        const size = r.pick([32, 64] as const);
        const m = this.mem(this.addr(8), false);
        this.emit({ ...this.sz(size), opcode: [0x8d], rm: { mem: m }, reg: this.dest() });
        this.note('lea');
        return;
      }
      case 4: { // push / pop pair around one flag-neutral instruction
        const a = this.src(), b = this.dest();
        this.emit({ opcode: [0x50], opReg: a });
        this.note('push');
        if (r.bool(0.5)) this.setcc();
        this.emit({ opcode: [0x58], opReg: b });
        this.note('pop');
        return;
      }
      default: { // xchg / not
        const size = this.size();
        const op = this.rm(size, 0.3);
        this.modrm(size, [size === 8 ? 0xf6 : 0xf7], op, 2, false, false);
        this.note('not');
        return;
      }
    }
  }

  note(mn: string): void { this.listing.push(mn); }

  /** One group: a producer, a consumer, a move, or a jcc forward skip over some groups. */
  group(allowSkip: boolean): void {
    const r = this.rng;
    const k = r.int(allowSkip ? 13 : 12);
    if (k === 11) this.fused();
    else if (k <= 2) this.alu();
    else if (k === 3) this.incDecNeg();
    else if (k === 4) this.shift();
    else if (k === 5) this.imul();
    else if (k === 6) this.setcc();
    else if (k === 7) this.cmovcc();
    else if (k <= 9) this.move();
    else if (k === 10) this.alu();
    else this.skip();
  }

  /** jcc over the next 1-3 groups; the defined flags after the join are those defined on both paths. */
  skip(): void {
    const cc = this.cc();
    if (cc < 0) return this.alu();
    const long = this.rng.bool(0.2);
    const at = this.off;
    if (long) this.bytes.push(0x0f, 0x80 + cc, 0, 0, 0, 0); else this.bytes.push(0x70 + cc, 0);
    this.note(`j${CC[cc]}`);
    const from = this.off;
    const before = this.defined;
    const n = this.rng.range(1, 3);
    for (let j = 0; j < n; j++) this.group(false);
    let rel = this.off - from;
    if (!long && rel > 127) {
      // Too far for rel8: turn the skip into a jcc that is never taken over nothing (a fall-through branch).
      rel = 0;
    }
    if (long) { for (let j = 0; j < 4; j++) this.bytes[at + 2 + j] = (rel >>> (8 * j)) & 0xff; }
    else this.bytes[at + 1] = rel;
    this.defined &= before;
  }

  build(): { code: Uint8Array; iterations: number } {
    const r = this.rng;
    for (let i = 0; i < 16; i++) {
      switch (r.int(5)) {
        case 0: this.gpr[i] = BigInt(r.u32() & 0xff); break;
        case 1: this.gpr[i] = BigInt.asUintN(64, -BigInt(r.range(1, 300))); break;
        case 2: this.gpr[i] = BigInt(r.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff])); break;
        default: this.gpr[i] = r.u64();
      }
    }
    this.baseVal = DATA_WIN + 64 + r.int(64);
    this.idxVal = r.range(-4, 4);
    this.gpr[BASE] = BigInt(this.baseVal);
    this.gpr[IDX] = BigInt.asUintN(64, BigInt(this.idxVal));
    this.gpr[RSP] = BigInt(STACK_WIN + 128 + 8 * r.range(-4, 4));
    const iterations = r.range(40, 90);
    const pool = [...DESTS];
    for (let j = pool.length - 1; j > 0; j--) { const x = r.int(j + 1); [pool[j], pool[x]] = [pool[x]!, pool[j]!]; }
    this.pool = pool.slice(0, r.range(2, 6));
    this.gpr[RCX] = BigInt(iterations);
    const groups = r.range(3, 14);
    for (let g = 0; g < groups; g++) this.group(true);
    if (this.defined !== ALL) {
      // Define every status flag again before the back edge: sub/add/cmp r, imm or a register.
      const size = this.size();
      const op = r.pick([0, 5, 7]);
      const im = this.imm(size);
      this.modrm(size, [size === 8 ? 0x80 : 0x81], this.rm(size, 0.2, op === 7), op, false, false, { imm: size === 64 ? { value: im.value, size: 4 } : im });
      this.note(['add', '', '', '', '', 'sub', '', 'cmp'][op]!);
      this.defined = ALL;
    }
    const len = this.off;
    if (len + 2 <= 128 && r.bool(0.7)) {
      this.bytes.push(0xe2, (-(len + 2)) & 0xff); // loop top
    } else {
      this.bytes.push(0x48, 0x8d, 0x49, 0xff, 0xe3, 0x05); // lea rcx,[rcx-1]; jrcxz end
      const rel = -(this.off + 5);
      this.bytes.push(0xe9, rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, (rel >>> 24) & 0xff); // jmp top
    }
    return { code: Uint8Array.from(this.bytes), iterations };
  }
}

export function generateSeq(seed: number, index: number): SeqCase {
  const g = new SeqGen(seed, index);
  const { code, iterations } = g.build();
  if (code.length > SEQ_CODE_MAX) throw new Error(`sequence ${index}: ${code.length} bytes`);
  const flagRng = new Rng(seed, 'seq-flags', index);
  const xmm = new Uint8Array(256);
  const input: CaseInput = {
    code, memSeed: flagRng.u32(), gpr: g.gpr, rflags: (flagRng.u32() & COMPARED_FLAGS & ~0x400) | 0x202, xmm, patches: [], target: 0,
  };
  return { id: `seq#${index}`, index, input, listing: g.listing, iterations };
}

const SEQ_FORM: Form = { id: 'seq', group: 'seq', undefined: '', cases: 0, gen: () => {} } as unknown as Form;

/** A Case view of a sequence for compareCase (nothing masked: the body ends with every status flag defined). */
export function seqAsCase(s: SeqCase): Case {
  return {
    id: s.id, form: SEQ_FORM, index: s.index, input: s.input, rep: false, ud: false,
    masks: { flags: ALL_FLAGS, gpr: new Array<bigint>(16).fill((1n << 64n) - 1n), mem: [], notes: [] },
  };
}

/** Runs sequences in the core: interpreter only, or with the block compiler at `threshold`. */
export class SeqRunner {
  private readonly mem: FlatMemory;
  private readonly cpu: Cpu;
  readonly crashes = new Map<string, string>();

  /** `threshold`: Cpu.jitThreshold (0: the interpreter alone); `wasm`: compile with the Wasm backend (the product's default), else the JS compiler. */
  constructor(readonly threshold: number, wasm = false) {
    const machine = wasm ? new WasmMachine(64 << 20) : null;
    this.mem = machine !== null ? machine.flat : new FlatMemory(64 << 20);
    this.cpu = new Cpu({ memory: this.mem, ...(machine !== null ? { wasm: machine } : {}) });
    this.mem.write(CODE_BASE, new Uint8Array(CODE_SIZE).fill(0xcc));
    fillScratch(this.mem.ram);
  }

  run(s: SeqCase, out: Buffer, k: number): void {
    const { cpu, mem } = this;
    const inp = s.input;
    loadCase(cpu, mem, new Uint8Array(SEQ_CODE_MAX), inp);
    cpu.jitThreshold = this.threshold;
    const end = BigInt(CODE_ENTRY + inp.code.length);
    let v: number;
    try {
      const stop = cpu.run(1_000_000);
      // The int3 after the code stops the run (its delivery faults: no IDT), RIP on it: that is the exit.
      v = stop === Stop.Fault && cpu.getRip() === end ? -1 : stop === Stop.Fault ? cpu.lastFault?.vector ?? -3 : -3;
    } catch (e) {
      v = -2;
      this.crashes.set(s.id, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
    writeResult(cpu, mem, v, out, k);
  }
}

/** Disassembly of a sequence's code, one line per instruction (for failure reports). */
export function seqDisasm(code: Uint8Array): string[] {
  const d = new Decoder(64, code, DecoderOptions.None);
  d.ip = BigInt(CODE_ENTRY);
  const fmt = new Formatter(FormatterSyntax.Intel);
  const out: string[] = [];
  while (d.canDecode) {
    const ins = d.decode();
    out.push(`+${Number(ins.ip - BigInt(CODE_ENTRY))}: ${fmt.format(ins)}`);
    ins.free();
  }
  fmt.free(); d.free();
  return out;
}
