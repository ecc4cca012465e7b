// Data movement: mov and its extending forms, lea, xchg, cmpxchg,
// cmpxchg8b/16b, xadd, the sign-extension group, setcc, cmovcc, and the
// flag instructions.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { CF, PF, AF, ZF, SF, DF, arithFlags, setArithFlags, condition } from '../flags.ts';
import { offset, ea, readARmw, writeA, storeA, readB, getReg, setReg, setR16 } from './operands.ts';
import { aluN, alu64, AluOp } from './alu.ts';
import { gp } from '../fault.ts';

/** mov a, b (reg/mem ← reg/mem/imm). */
export function mov(c: Cpu, i: Insn): void {
  const size = i.size;
  const v = readB(c, i, size);
  storeA(c, i, size, v, c.outHi);
}

export function movRR32(c: Cpu, i: Insn): void { c.lo[i.a] = c.lo[i.b]!; c.hi[i.a] = 0; }
export function movRR64(c: Cpu, i: Insn): void { c.lo[i.a] = c.lo[i.b]!; c.hi[i.a] = c.hi[i.b]!; }
export function movRI32(c: Cpu, i: Insn): void { c.lo[i.a] = i.immLo; c.hi[i.a] = 0; }
export function movRI64(c: Cpu, i: Insn): void { c.lo[i.a] = i.immLo; c.hi[i.a] = i.immHi; }

/** movzx (op = source bits 8/16): a = register of i.size. */
export function movzx(c: Cpu, i: Insn): void {
  const v = readB(c, i, i.op);
  setReg(c, i.a, i.size, v, 0);
}

/** movsx / movsxd (op = source bits 8/16/32). */
export function movsx(c: Cpu, i: Insn): void {
  const v = readB(c, i, i.op);
  const s = i.op === 8 ? (v << 24) >> 24 : i.op === 16 ? (v << 16) >> 16 : v;
  setReg(c, i.a, i.size, s, s >> 31);
}

/** lea: the offset, truncated to the operand size. */
export function lea(c: Cpu, i: Insn): void {
  offset(c, i);
  setReg(c, i.a, i.size, c.eaLo, c.eaHi);
}

/** xchg a, b (either may be memory in a; b is a register). */
export function xchg(c: Cpu, i: Insn): void {
  const size = i.size;
  const al = readARmw(c, i, size), ah = c.outHi;
  const bl = getReg(c, i.b, size), bh = c.outHi;
  writeA(c, i, size, bl, bh);
  setReg(c, i.b, size, al, ah);
}

/** cmpxchg a, b: compare accumulator with a; equal → a = b, else accumulator = a. */
export function cmpxchg(c: Cpu, i: Insn): void {
  const size = i.size;
  const dl = readARmw(c, i, size), dh = c.outHi;
  const accL = getReg(c, 0, size), accH = c.outHi;
  if (size === 64) alu64(c, AluOp.Cmp, accL, accH, dl, dh);
  else aluN(c, AluOp.Cmp, accL, dl, size);
  const mask = size === 64 || size === 32 ? -1 : (1 << size) - 1;
  const equal = ((accL ^ dl) & mask) === 0 && (size !== 64 || accH === dh);
  if (equal) {
    const sl = getReg(c, i.b, size), sh = c.outHi;
    writeA(c, i, size, sl, sh);
  } else {
    if (i.a < 0) writeA(c, i, size, dl, dh); // the memory operand is always written back
    setReg(c, 0, size, dl, dh);
  }
}

/**
 * cmpxchg8b m64 (op 0) / cmpxchg16b m128 (op 1): compare EDX:EAX (RDX:RAX)
 * with the memory operand; equal → ZF = 1, memory = ECX:EBX (RCX:RBX); else
 * ZF = 0, EDX:EAX (RDX:RAX) = memory. The other flags are kept (SDM Vol. 2A,
 * APM Vol. 3 CMPXCHG8B/CMPXCHG16B). A register operand does not decode (#UD).
 */
export function cmpxchgWide(c: Cpu, i: Insn): void {
  ea(c, i);
  const lo = c.eaLo, hi = c.eaHi;
  let equal: boolean;
  if (i.op === 0) {
    // Read as for a write: the destination is written either way, so a read-only page faults even when unequal.
    const ml = c.readRmw64(lo, hi), mh = c.outHi;
    equal = ml === c.lo[0] && mh === c.lo[2];
    if (equal) c.write64(lo, hi, c.lo[3]!, c.lo[1]!);
    else {
      c.write64(lo, hi, ml, mh); // the old value is written back
      // Only the unequal case writes EAX/EDX, and a 32-bit write clears bits 63:32; an equal compare leaves them.
      c.lo[0] = ml; c.hi[0] = 0; c.lo[2] = mh; c.hi[2] = 0;
    }
  } else {
    if ((lo & 15) !== 0) throw gp(0, `cmpxchg16b: operand at 0x${(lo >>> 0).toString(16)} is not 16-byte aligned`);
    // 16-byte aligned, so both quadwords lie on one page, checked for writing by the reads: no store can fault.
    const lo2 = (lo + 8) | 0; // no carry into the high half: bits 3:0 are zero
    const al = c.readRmw64(lo, hi), ah = c.outHi;
    const bl = c.readRmw64(lo2, hi), bh = c.outHi;
    equal = al === c.lo[0] && ah === c.hi[0] && bl === c.lo[2] && bh === c.hi[2];
    if (equal) { c.write64(lo, hi, c.lo[3]!, c.hi[3]!); c.write64(lo2, hi, c.lo[1]!, c.hi[1]!); }
    else {
      c.write64(lo, hi, al, ah); c.write64(lo2, hi, bl, bh);
      c.lo[0] = al; c.hi[0] = ah; c.lo[2] = bl; c.hi[2] = bh;
    }
  }
  setArithFlags(c, (arithFlags(c) & ~ZF) | (equal ? ZF : 0));
}

/** xadd a, b: b = old a; a = a + b. */
export function xadd(c: Cpu, i: Insn): void {
  const size = i.size;
  const al = readARmw(c, i, size), ah = c.outHi;
  const bl = getReg(c, i.b, size), bh = c.outHi;
  let rl: number, rh = 0;
  if (size === 64) { rl = alu64(c, AluOp.Add, al, ah, bl, bh); rh = c.outHi; }
  else rl = aluN(c, AluOp.Add, al, bl, size);
  setReg(c, i.b, size, al, ah);
  writeA(c, i, size, rl, rh);
}

/** cbw/cwde/cdqe (op 0): sign-extend the accumulator's lower half into itself. cwd/cdq/cqo (op 1): into rdx. */
export function signExtendAcc(c: Cpu, i: Insn): void {
  const size = i.size;
  if (i.op === 0) {
    if (size === 16) setR16(c, 0, ((c.lo[0]! << 24) >> 24));
    else if (size === 32) { c.lo[0] = (c.lo[0]! << 16) >> 16; c.hi[0] = 0; }
    else c.hi[0] = c.lo[0]! >> 31;
  } else {
    if (size === 16) setR16(c, 2, (c.lo[0]! << 16) >> 31);
    else if (size === 32) { c.lo[2] = c.lo[0]! >> 31; c.hi[2] = 0; }
    else { const s = c.hi[0]! >> 31; c.lo[2] = s; c.hi[2] = s; }
  }
}

export function setcc(c: Cpu, i: Insn): void {
  storeA(c, i, 8, condition(c, i.op) ? 1 : 0, 0);
}

/** cmovcc: the source is read (and may fault) whatever the condition; 32-bit forms always zero-extend. */
export function cmovcc(c: Cpu, i: Insn): void {
  const size = i.size;
  const v = readB(c, i, size), vh = c.outHi;
  if (condition(c, i.op)) setReg(c, i.a, size, v, vh);
  else if (size === 32) c.hi[i.a] = 0;
}

export function lahf(c: Cpu, _i: Insn): void {
  const f = arithFlags(c) & (SF | ZF | AF | PF | CF);
  c.lo[0] = (c.lo[0]! & ~0xff00) | ((f | 2) << 8);
}

export function sahf(c: Cpu, _i: Insn): void {
  const ah = (c.lo[0]! >>> 8) & 0xff;
  setArithFlags(c, (arithFlags(c) & ~(SF | ZF | AF | PF | CF)) | (ah & (SF | ZF | AF | PF | CF)));
}

/** clc (op 0) stc (1) cmc (2) cld (3) std (4). */
export function flagOp(c: Cpu, i: Insn): void {
  switch (i.op) {
    case 0: setArithFlags(c, arithFlags(c) & ~CF); break;
    case 1: setArithFlags(c, arithFlags(c) | CF); break;
    case 2: setArithFlags(c, arithFlags(c) ^ CF); break;
    case 3: c.flagsSys &= ~DF; break;
    default: c.flagsSys |= DF; break;
  }
}

export function nop(_c: Cpu, _i: Insn): void {}

function bswap16(v: number): number { return ((v & 0xff) << 8) | ((v >>> 8) & 0xff); }
function bswap32(v: number): number { return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); }

/**
 * movbe: a load (op 0: register ← memory) or store (op 1: memory ← register)
 * with the bytes reversed. A 16-bit load merges into the register, a 32-bit one zero-extends.
 */
export function movbe(c: Cpu, i: Insn): void {
  const size = i.size;
  const vl = i.op === 0 ? readB(c, i, size) : getReg(c, i.b, size), vh = size === 64 ? c.outHi : 0;
  const rl = size === 16 ? bswap16(vl) : size === 32 ? bswap32(vl) : bswap32(vh), rh = size === 64 ? bswap32(vl) : 0;
  if (i.op === 0) setReg(c, i.a, size, rl, rh);
  else storeA(c, i, size, rl, rh);
}
