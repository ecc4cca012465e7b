// The interpreter's specialised memory forms for flat 64-bit addressing
// (no segment base, 64-bit address size), chosen at decode time
// (specialize.ts): mov loads and stores, movzx loads, lea, and ALU
// operations with a memory source. The address is computed in locals from
// its decoded shape (base + disp, or base + index·scale + disp), skipping
// the operand dispatch of operands.ts. When Cpu.checks is set (#AC, data
// breakpoints) they hand over to the generic handler, which checks.
//
// The run loop does not name these instructions in Cpu.cur (Insn.named):
// a TLB hit is plain RAM, which neither faults, records a write nor reads
// the clock, so each names itself only on the way to the slow path.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { mov, movzx } from './move.ts';
import { aluHandler, aluHandler64 } from './alu.ts';

/** base + disp: low half of the linear address; the high half in c.eaHi. */
function eaB(c: Cpu, i: Insn): number {
  const b = i.base;
  const s = (c.lo[b]! >>> 0) + (i.dispLo >>> 0);
  c.eaHi = (c.hi[b]! + i.dispHi + (s > 0xffffffff ? 1 : 0)) | 0;
  return s | 0;
}

/** base + index·scale + disp. */
function eaBI(c: Cpu, i: Insn): number {
  const b = i.base, x = i.index, m = 1 << i.scale;
  const s = (c.lo[b]! >>> 0) + (c.lo[x]! >>> 0) * m + (i.dispLo >>> 0);
  c.eaHi = (c.hi[b]! + c.hi[x]! * m + i.dispHi + Math.floor(s / 4294967296)) | 0;
  return s | 0;
}

// ---- Accesses: the TLB hit inline, else the instruction named and Cpu's access (translation, faults, devices) ----

function load8(c: Cpu, i: Insn, lo: number, hi: number): number {
  const p = c.tlbReadPage(lo, hi);
  if (p >= 0) return c.ram[p + (lo & 0xfff)]!;
  c.cur = i;
  return c.read8(lo, hi);
}
function load16(c: Cpu, i: Insn, lo: number, hi: number): number {
  const p = c.tlbReadPage(lo, hi);
  if (p >= 0 && (lo & 0xfff) <= 0xffe) return c.ramView.getUint16(p + (lo & 0xfff), true);
  c.cur = i;
  return c.read16(lo, hi);
}
function load32(c: Cpu, i: Insn, lo: number, hi: number): number {
  const p = c.tlbReadPage(lo, hi);
  if (p >= 0 && (lo & 0xfff) <= 0xffc) return c.ramView.getInt32(p + (lo & 0xfff), true);
  c.cur = i;
  return c.read32(lo, hi);
}
/** The low half; the high half in c.outHi. */
function load64(c: Cpu, i: Insn, lo: number, hi: number): number {
  const p = c.tlbReadPage(lo, hi);
  if (p >= 0 && (lo & 0xfff) <= 0xff8) {
    const a = p + (lo & 0xfff);
    c.outHi = c.ramView.getInt32(a + 4, true);
    return c.ramView.getInt32(a, true);
  }
  c.cur = i;
  return c.read64(lo, hi);
}
function store8(c: Cpu, i: Insn, lo: number, hi: number, v: number): void {
  const p = c.tlbWritePage(lo, hi);
  if (p >= 0) { c.ram[p + (lo & 0xfff)] = v; return; }
  c.cur = i;
  c.write8(lo, hi, v);
}
function store32(c: Cpu, i: Insn, lo: number, hi: number, v: number): void {
  const p = c.tlbWritePage(lo, hi);
  if (p >= 0 && (lo & 0xfff) <= 0xffc) { c.ramView.setInt32(p + (lo & 0xfff), v, true); return; }
  c.cur = i;
  c.write32(lo, hi, v);
}
function store64(c: Cpu, i: Insn, lo: number, hi: number, vlo: number, vhi: number): void {
  const p = c.tlbWritePage(lo, hi);
  if (p >= 0 && (lo & 0xfff) <= 0xff8) {
    const a = p + (lo & 0xfff);
    c.ramView.setInt32(a, vlo, true); c.ramView.setInt32(a + 4, vhi, true);
    return;
  }
  c.cur = i;
  c.write64(lo, hi, vlo, vhi);
}

// ---- mov r, m ----

export function movLoad32B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  const v = load32(c, i, lo, c.eaHi);
  c.lo[i.a] = v; c.hi[i.a] = 0;
}
export function movLoad32BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  const v = load32(c, i, lo, c.eaHi);
  c.lo[i.a] = v; c.hi[i.a] = 0;
}
export function movLoad64B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  const v = load64(c, i, lo, c.eaHi);
  c.lo[i.a] = v; c.hi[i.a] = c.outHi;
}
export function movLoad64BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  const v = load64(c, i, lo, c.eaHi);
  c.lo[i.a] = v; c.hi[i.a] = c.outHi;
}

// ---- mov m, r ----

export function movStore32B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  store32(c, i, lo, c.eaHi, c.lo[i.b]!);
}
export function movStore32BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  store32(c, i, lo, c.eaHi, c.lo[i.b]!);
}
export function movStore64B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  store64(c, i, lo, c.eaHi, c.lo[i.b]!, c.hi[i.b]!);
}
export function movStore64BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  store64(c, i, lo, c.eaHi, c.lo[i.b]!, c.hi[i.b]!);
}
/** mov m8, r8 with r8 one of the low bytes (not AH..BH). */
export function movStore8B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  store8(c, i, lo, c.eaHi, c.lo[i.b]! & 0xff);
}
export function movStore8BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  store8(c, i, lo, c.eaHi, c.lo[i.b]! & 0xff);
}

// ---- mov m, imm (the immediate sign-extended to 64 bits as its form says) ----

export function movStoreImm32B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  store32(c, i, lo, c.eaHi, i.immLo);
}
export function movStoreImm32BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  store32(c, i, lo, c.eaHi, i.immLo);
}
export function movStoreImm64B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaB(c, i);
  store64(c, i, lo, c.eaHi, i.immLo, i.immHi);
}
export function movStoreImm64BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; mov(c, i); return; }
  const lo = eaBI(c, i);
  store64(c, i, lo, c.eaHi, i.immLo, i.immHi);
}

// ---- movzx r32/r64, m8/m16 ----

export function movzxLoad8B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; movzx(c, i); return; }
  const lo = eaB(c, i);
  c.lo[i.a] = load8(c, i, lo, c.eaHi); c.hi[i.a] = 0;
}
export function movzxLoad8BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; movzx(c, i); return; }
  const lo = eaBI(c, i);
  c.lo[i.a] = load8(c, i, lo, c.eaHi); c.hi[i.a] = 0;
}
export function movzxLoad16B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; movzx(c, i); return; }
  const lo = eaB(c, i);
  c.lo[i.a] = load16(c, i, lo, c.eaHi); c.hi[i.a] = 0;
}
export function movzxLoad16BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; movzx(c, i); return; }
  const lo = eaBI(c, i);
  c.lo[i.a] = load16(c, i, lo, c.eaHi); c.hi[i.a] = 0;
}

// ---- lea (64-bit address size; no memory access, so no checks) ----

export function lea64B(c: Cpu, i: Insn): void { const lo = eaB(c, i); c.lo[i.a] = lo; c.hi[i.a] = c.eaHi; }
export function lea64BI(c: Cpu, i: Insn): void { const lo = eaBI(c, i); c.lo[i.a] = lo; c.hi[i.a] = c.eaHi; }
export function lea32B(c: Cpu, i: Insn): void { c.lo[i.a] = (c.lo[i.base]! + i.dispLo) | 0; c.hi[i.a] = 0; }
export function lea32BI(c: Cpu, i: Insn): void {
  c.lo[i.a] = (c.lo[i.base]! + (c.lo[i.index]! << i.scale) + i.dispLo) | 0; c.hi[i.a] = 0;
}

// ---- op r, m: add/sub/cmp/and/or/xor/test with a memory source ----

export function aluLoad32B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; aluHandler(c, i); return; }
  const lo = eaB(c, i);
  alu32(c, i, load32(c, i, lo, c.eaHi));
}
export function aluLoad32BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; aluHandler(c, i); return; }
  const lo = eaBI(c, i);
  alu32(c, i, load32(c, i, lo, c.eaHi));
}
export function aluLoad64B(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; aluHandler64(c, i); return; }
  const lo = eaB(c, i);
  const bl = load64(c, i, lo, c.eaHi);
  alu64(c, i, bl, c.outHi);
}
export function aluLoad64BI(c: Cpu, i: Insn): void {
  if (c.checks !== 0) { c.cur = i; aluHandler64(c, i); return; }
  const lo = eaBI(c, i);
  const bl = load64(c, i, lo, c.eaHi);
  alu64(c, i, bl, c.outHi);
}

/** reg a = reg a op b for the ops without a carry in (specialize.ts picks only those). */
function alu32(c: Cpu, i: Insn, b: number): void {
  const a = c.lo[i.a]!;
  let r: number;
  switch (i.op) {
    case 0: r = (a + b) | 0; c.fA = a; c.fB = b; c.fOp = 1 /* Add */; break;
    case 1: r = a | b; c.fOp = 5 /* Logic */; break;
    case 4: case 8: r = a & b; c.fOp = 5 /* Logic */; break;
    case 6: r = a ^ b; c.fOp = 5 /* Logic */; break;
    default: r = (a - b) | 0; c.fA = a; c.fB = b; c.fOp = 3 /* Sub */; break; // sub, cmp
  }
  c.fR = r; c.fSize = 32;
  if (i.op < 7) { c.lo[i.a] = r; c.hi[i.a] = 0; }
}

function alu64(c: Cpu, i: Insn, bl: number, bh: number): void {
  const al = c.lo[i.a]!, ah = c.hi[i.a]!;
  let rl: number, rh: number;
  switch (i.op) {
    case 0: {
      const t = (al >>> 0) + (bl >>> 0);
      rl = t | 0; rh = (ah + bh + (t > 0xffffffff ? 1 : 0)) | 0;
      c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fOp = 1 /* Add */; break;
    }
    case 1: rl = al | bl; rh = ah | bh; c.fOp = 5 /* Logic */; break;
    case 4: case 8: rl = al & bl; rh = ah & bh; c.fOp = 5 /* Logic */; break;
    case 6: rl = al ^ bl; rh = ah ^ bh; c.fOp = 5 /* Logic */; break;
    default: {
      const t = (al >>> 0) - (bl >>> 0);
      rl = t | 0; rh = (ah - bh - (t < 0 ? 1 : 0)) | 0;
      c.fA = al; c.fAh = ah; c.fB = bl; c.fBh = bh; c.fOp = 3 /* Sub */; break;
    }
  }
  c.fR = rl; c.fRh = rh; c.fSize = 64;
  if (i.op < 7) { c.lo[i.a] = rl; c.hi[i.a] = rh; }
}
