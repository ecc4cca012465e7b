// Replace generic handlers by specialised ones for the commonest operand
// shapes, decided once at decode time so the hot path skips the operand
// dispatch. Two choices per instruction: `exec`, the handler the block
// compiler recognises by identity (jit/emit.ts) and calls, and `run`, the
// handler the interpreter calls, specialised further (one function per
// operation, condition and addressing shape: ops/fast*.ts).
import type { Insn, Handler } from './insn.ts';
import { aluHandler, aluHandler64, aluRR32, aluRR64, aluRI32, aluRI64, incDec } from './ops/alu.ts';
import { mov, movRR32, movRR64, movRI32, movRI64, movzx, lea } from './ops/move.ts';
import { shiftHandler } from './ops/shift.ts';
import { imul2, imul3 } from './ops/muldiv.ts';
import { jcc } from './ops/branch.ts';
import { pushOp, popOp, pushR64, popR64 } from './ops/stack.ts';
import * as A from './ops/fastalu.ts';
import * as M from './ops/fastmove.ts';
import { JCC } from './ops/fastbranch.ts';
import * as F from './ops/fastfuse.ts';

/** By ALU op number (AluOp: add or adc sbb and sub xor cmp test): null where the generic form stays. */
const RR32 = [A.addRR32, A.orRR32, null, null, A.andRR32, A.subRR32, A.xorRR32, A.cmpRR32, A.testRR32];
const RI32 = [A.addRI32, A.orRI32, null, null, A.andRI32, A.subRI32, A.xorRI32, A.cmpRI32, A.testRI32];
const RR64 = [A.addRR64, A.orRR64, null, null, A.andRR64, A.subRR64, A.xorRR64, A.cmpRR64, A.testRR64];
const RI64 = [A.addRI64, A.orRI64, null, null, A.andRI64, A.subRI64, A.xorRI64, A.cmpRI64, A.testRI64];

export function specialize(i: Insn): void {
  const h: Handler = i.exec;
  const regA = i.a >= 0 && i.a < 16, regB = i.b >= 0 && i.b < 16, immB = i.b === -2;
  if (h === aluHandler && i.size === 32) {
    if (regA && regB) i.exec = aluRR32;
    else if (regA && immB) i.exec = aluRI32;
  } else if (h === aluHandler64) {
    if (regA && regB) i.exec = aluRR64;
    else if (regA && immB) i.exec = aluRI64;
  } else if (h === mov) {
    if (i.size === 32 && regA && regB) i.exec = movRR32;
    else if (i.size === 64 && regA && regB) i.exec = movRR64;
    else if (i.size === 32 && regA && immB) i.exec = movRI32;
    else if (i.size === 64 && regA && immB) i.exec = movRI64;
  }
  i.run = interpreted(i, h) ?? i.exec;
}

/** The interpreter's handler for the shapes ops/fast*.ts cover, or null. */
function interpreted(i: Insn, h: Handler): Handler | null {
  const regA = i.a >= 0 && i.a < 16, regB = i.b >= 0 && i.b < 16, immB = i.b === -2;
  const size = i.size, wide = size === 32 || size === 64;
  // Flat 64-bit addressing with a base register: [base + disp] or [base + index·scale + disp].
  const flat = i.asize === 64 && i.seg === -1 && i.base >= 0;
  const bi = i.index >= 0;
  if (h === aluHandler || h === aluHandler64) {
    if (!wide) return null;
    if (regA && regB) return (size === 32 ? RR32 : RR64)[i.op] ?? null;
    if (regA && immB) return (size === 32 ? RI32 : RI64)[i.op] ?? null;
    if (regA && i.b === -1 && flat && i.op !== 2 && i.op !== 3) {
      if (size === 32) return bi ? M.aluLoad32BI : M.aluLoad32B;
      return bi ? M.aluLoad64BI : M.aluLoad64B;
    }
    return null;
  }
  if (h === jcc) return JCC[i.op]!;
  if (h === mov && flat) {
    if (regA && i.b === -1) {
      if (size === 32) return bi ? M.movLoad32BI : M.movLoad32B;
      if (size === 64) return bi ? M.movLoad64BI : M.movLoad64B;
    } else if (i.a === -1 && regB) {
      if (size === 32) return bi ? M.movStore32BI : M.movStore32B;
      if (size === 64) return bi ? M.movStore64BI : M.movStore64B;
      if (size === 8) return bi ? M.movStore8BI : M.movStore8B;
    } else if (i.a === -1 && immB) {
      if (size === 32) return bi ? M.movStoreImm32BI : M.movStoreImm32B;
      if (size === 64) return bi ? M.movStoreImm64BI : M.movStoreImm64B;
    }
    return null;
  }
  if (h === movzx && flat && regA && i.b === -1 && wide) {
    if (i.op === 8) return bi ? M.movzxLoad8BI : M.movzxLoad8B;
    if (i.op === 16) return bi ? M.movzxLoad16BI : M.movzxLoad16B;
    return null;
  }
  if (h === lea && flat && regA && wide) {
    if (size === 64) return bi ? M.lea64BI : M.lea64B;
    return bi ? M.lea32BI : M.lea32B;
  }
  if (h === shiftHandler && regA && immB && wide) {
    const n = i.immLo & (size === 64 ? 0x3f : 0x1f);
    if (n === 0 || n !== i.immLo) return null; // a count of zero changes nothing, not even flags
    switch (i.op) {
      case 4: case 6: return size === 32 ? A.shlRI32 : A.shlRI64;
      case 5: return size === 32 ? A.shrRI32 : A.shrRI64;
      case 7: return size === 32 ? A.sarRI32 : A.sarRI64;
      case 0: return size === 32 ? A.rolRI32 : A.rolRI64;
      case 1: return size === 32 ? A.rorRI32 : A.rorRI64;
    }
    return null;
  }
  if (h === incDec && regA && wide) {
    if (size === 32) return i.op === 1 ? A.decR32 : A.incR32;
    return i.op === 1 ? A.decR64 : A.incR64;
  }
  if (h === pushOp && regA && size === 64) return pushR64;
  if (h === popOp && regA && size === 64) return popR64;
  if (h === imul2 && regA && regB && wide) return size === 32 ? A.imulRR32 : A.imulRR64;
  if (h === imul3 && regA && regB && wide) return size === 32 ? A.imulRRI32 : A.imulRRI64;
  return null;
}

/**
 * The interpreter's handlers that need not be named in Cpu.cur before they run: those that touch registers and flags
 * only (they cannot fault, write memory or read the clock) and the flat memory forms, which name themselves before
 * anything but a TLB hit (ops/fastmove.ts).
 */
const SELF_NAMED = new Set<Handler>([...Object.values(A), ...JCC, ...Object.values(F), ...Object.values(M), movRR32, movRR64, movRI32, movRI64]);

/** Compare handlers by their fused compare-and-branch form. */
const FUSED = new Map<Handler, Handler>([
  [A.cmpRR32, F.cmpRR32Jcc], [A.cmpRI32, F.cmpRI32Jcc], [A.cmpRR64, F.cmpRR64Jcc], [A.cmpRI64, F.cmpRI64Jcc],
  [A.testRR32, F.testRR32Jcc], [A.testRR64, F.testRR64Jcc],
]);

/** Chain a block's instructions for the interpreter's walk, fusing a compare and the jcc that ends the block. */
export function link(insns: Insn[]): void {
  const n = insns.length;
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    i.next = i.after = k + 1 < n ? insns[k + 1]! : null;
    i.go = i.run;
    i.named = !SELF_NAMED.has(i.run);
  }
  if (n >= 2 && insns[n - 1]!.exec === jcc) {
    const f = FUSED.get(insns[n - 2]!.run);
    if (f !== undefined) { insns[n - 2]!.go = f; insns[n - 2]!.after = null; }
  }
}
