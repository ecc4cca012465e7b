// Exceptions raised by instructions. Thrown inside handlers and caught by
// the run loop, which restores RIP to the faulting instruction and either
// delivers the exception or reports it.

export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
}

export const VECTOR_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#CSO', '#TS', '#NP', '#SS', '#GP', '#PF', '#15', '#MF', '#AC', '#MC', '#XM'];

export class CpuFault extends Error {
  constructor(
    readonly vector: number,
    /** Error code pushed by the exception, or -1 when the vector has none. */
    readonly errorCode: number = -1,
    /** Why, in words, for reports (e.g. the bytes of an unimplemented instruction). */
    readonly detail: string = '',
  ) {
    super(`${VECTOR_NAMES[vector] ?? `vector ${vector}`}${errorCode >= 0 ? `(0x${errorCode.toString(16)})` : ''}${detail ? `: ${detail}` : ''}`);
  }
}

/** #GP(0) for a non-canonical linear address; run.ts turns it into #SS(0) when the operand is SS-relative. */
export class NonCanonicalFault extends CpuFault {
  constructor(detail: string) { super(Vector.GP, 0, detail); }
}

export function gp(code = 0, detail = ''): CpuFault { return new CpuFault(Vector.GP, code, detail); }
export function ud(detail = ''): CpuFault { return new CpuFault(Vector.UD, -1, detail); }
