// Replace generic handlers by specialised ones for the commonest operand
// shapes (register-register, register-immediate), decided once at decode
// time so the hot path skips the operand dispatch.
import type { Insn, Handler } from './insn.ts';
import { aluHandler, aluHandler64, aluRR32, aluRR64, aluRI32, aluRI64 } from './ops/alu.ts';
import { mov, movRR32, movRR64, movRI32, movRI64 } from './ops/move.ts';

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
}
