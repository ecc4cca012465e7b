// The dispatch table: iced-x86 Code → (handler, op parameter, operand
// size), worked out per Code on first use from iced's Code names, which
// spell the operation and operand forms (e.g. Add_rm64_imm8), so one rule
// covers a whole family. Codes without a rule raise #UD naming the
// instruction.
import { Code } from './iced.ts';
import type { Handler } from './insn.ts';
import { aluHandler, aluHandler64, incDec, neg, not } from './ops/alu.ts';
import { shiftHandler, shiftDouble } from './ops/shift.ts';
import { mulAcc, imul2, imul3, divide } from './ops/muldiv.ts';
import { bitTest, bitScan, countZeros, popcnt, bswap } from './ops/bits.ts';
import { mov, movzx, movsx, lea, xchg, cmpxchg, cmpxchgWide, xadd, signExtendAcc, setcc, cmovcc, lahf, sahf, flagOp, nop, movbe } from './ops/move.ts';
import { andn, bextr, blsOp, bzhi, mulx, pdepPext, rorx, shiftX } from './ops/bmi.ts';
import { adx } from './ops/adx.ts';
import { pushOp, popOp, pushf, popf, enter, leave } from './ops/stack.ts';
import { jmpRel, jcc, jmpIndirect, callRel, callIndirect, ret, loop, jrcxz } from './ops/branch.ts';
import { movs, stos, lods, cmps, scas } from './ops/string.ts';
import { mov128, xor128, movdq } from './ops/sse.ts';

export interface Entry {
  handler: Handler;
  /** Per-form parameter stored in Insn.op. */
  op: number;
  /** Operand size in bits. */
  size: number;
  /** Flags for the decoder: see FORM_*. */
  form: number;
}

/** The instruction ends a block even though it does not branch (it changes mode, flags that gate interrupts, …). */
export const FORM_ENDS_BLOCK = 1;
/** movd/movq: operand a is an XMM register. */
export const FORM_XMM_DEST = 2;
/** movq xmm, xmm/m64 forms: the register operand on the other side is an XMM register too. */
export const FORM_XMM_BOTH = 4;
/** String instruction: Insn.op receives the rep kind. */
export const FORM_STRING = 8;

const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const ALU = ['Add', 'Or', 'Adc', 'Sbb', 'And', 'Sub', 'Xor', 'Cmp'];
const SHIFTS = ['Rol', 'Ror', 'Rcl', 'Rcr', 'Shl', 'Shr', 'Sal', 'Sar'];

/** Operand size named by an operand token of a Code name, or 0. */
function tokenSize(t: string | undefined): number {
  if (!t) return 0;
  const m = /^(?:r|rm|m|moffs|imm)(8|16|32|64)$/.exec(t);
  if (m) return Number(m[1]);
  return ({ AL: 8, AX: 16, EAX: 32, RAX: 64, CL: 8 } as Record<string, number>)[t] ?? 0;
}

const SUFFIX_SIZE: Record<string, number> = { b: 8, w: 16, d: 32, q: 64 };

/** Map one Code name to its entry, or undefined when we do not implement it. */
/** BMI1/BMI2 (VEX-encoded): iced's name → handler and op. */
const BMI: Record<string, [Handler, number]> = {
  Andn: [andn, 0], Bextr: [bextr, 0], Blsi: [blsOp, 0], Blsmsk: [blsOp, 1], Blsr: [blsOp, 2], Bzhi: [bzhi, 0],
  Mulx: [mulx, 0], Pdep: [pdepPext, 0], Pext: [pdepPext, 1], Rorx: [rorx, 0], Shlx: [shiftX, 0], Shrx: [shiftX, 1], Sarx: [shiftX, 2],
};

function rule(name: string): Omit<Entry, 'form'> & { form?: number } | undefined {
  const vex = /^VEX_([A-Za-z]+)_r(32|64)_/.exec(name);
  if (vex) {
    const b = BMI[vex[1]!];
    return b ? { handler: b[0], op: b[1], size: Number(vex[2]) } : undefined;
  }
  const [mn, ...ops] = name.split('_') as [string, ...string[]];
  const s0 = tokenSize(ops[0]);
  const s1 = tokenSize(ops[1]);
  const alu = ALU.indexOf(mn);
  if (alu >= 0 && s0) return { handler: s0 === 64 ? aluHandler64 : aluHandler, op: alu, size: s0 };
  if (mn === 'Test' && s0) return { handler: s0 === 64 ? aluHandler64 : aluHandler, op: 8, size: s0 };
  if ((mn === 'Inc' || mn === 'Dec') && s0) return { handler: incDec, op: mn === 'Dec' ? 1 : 0, size: s0 };
  if (mn === 'Neg' && s0) return { handler: neg, op: 0, size: s0 };
  if (mn === 'Not' && s0) return { handler: not, op: 0, size: s0 };
  const sh = SHIFTS.indexOf(mn);
  if (sh >= 0 && s0) return { handler: shiftHandler, op: sh, size: s0 };
  if ((mn === 'Shld' || mn === 'Shrd') && s0) return { handler: shiftDouble, op: mn === 'Shld' ? 0 : 1, size: s0 };
  if ((mn === 'Mul' || mn === 'Imul') && ops.length === 1 && s0) return { handler: mulAcc, op: mn === 'Imul' ? 1 : 0, size: s0 };
  if (mn === 'Imul' && ops.length === 2) return { handler: imul2, op: 0, size: s0 };
  if (mn === 'Imul' && ops.length === 3) return { handler: imul3, op: 0, size: s0 };
  if ((mn === 'Div' || mn === 'Idiv') && s0) return { handler: divide, op: mn === 'Idiv' ? 1 : 0, size: s0 };
  const bt = ['Bt', 'Bts', 'Btr', 'Btc'].indexOf(mn);
  if (bt >= 0 && s0) return { handler: bitTest, op: bt, size: s0 };
  if ((mn === 'Bsf' || mn === 'Bsr') && s0) return { handler: bitScan, op: mn === 'Bsr' ? 1 : 0, size: s0 };
  if ((mn === 'Tzcnt' || mn === 'Lzcnt') && s0) return { handler: countZeros, op: mn === 'Lzcnt' ? 1 : 0, size: s0 };
  if (mn === 'Popcnt' && s0) return { handler: popcnt, op: 0, size: s0 };
  if ((mn === 'Adcx' || mn === 'Adox') && s0) return { handler: adx, op: mn === 'Adox' ? 1 : 0, size: s0 };
  if (mn === 'Movbe') return { handler: movbe, op: ops[0]!.startsWith('m') ? 1 : 0, size: s0 || s1 };
  if (mn === 'Bswap') return { handler: bswap, op: 0, size: s0 };
  if (mn === 'Mov' && s0 && !ops.some((t) => /Sreg|cr|dr|tr/.test(t))) return { handler: mov, op: 0, size: s0 || s1 };
  if (mn === 'Movzx') return { handler: movzx, op: s1, size: s0 };
  if (mn === 'Movsx' || mn === 'Movsxd') return { handler: movsx, op: s1, size: s0 };
  if (mn === 'Lea') return { handler: lea, op: 0, size: s0 };
  if (mn === 'Xchg') return { handler: xchg, op: 0, size: s0 };
  if (mn === 'Cmpxchg' && s0) return { handler: cmpxchg, op: 0, size: s0 };
  // Cmpxchg8b_m64, Cmpxchg16b_m128: fixed operand sizes (66h changes nothing; REX.W selects the 16-byte form).
  if (mn === 'Cmpxchg8b' || mn === 'Cmpxchg16b') return { handler: cmpxchgWide, op: mn === 'Cmpxchg16b' ? 1 : 0, size: mn === 'Cmpxchg16b' ? 128 : 64 };
  if (mn === 'Xadd' && s0) return { handler: xadd, op: 0, size: s0 };
  const ext = ['Cbw', 'Cwde', 'Cdqe', 'Cwd', 'Cdq', 'Cqo'].indexOf(mn);
  if (ext >= 0 && ops.length === 0) return { handler: signExtendAcc, op: ext >= 3 ? 1 : 0, size: [16, 32, 64][ext % 3]! };
  if (mn.startsWith('Set') && CONDITIONS.includes(mn.slice(3)) && ops[0] === 'rm8') return { handler: setcc, op: CONDITIONS.indexOf(mn.slice(3)), size: 8 };
  if (mn.startsWith('Cmov') && CONDITIONS.includes(mn.slice(4))) return { handler: cmovcc, op: CONDITIONS.indexOf(mn.slice(4)), size: s0 };
  if (mn === 'Lahf' && ops.length === 0) return { handler: lahf, op: 0, size: 8 };
  if (mn === 'Sahf' && ops.length === 0) return { handler: sahf, op: 0, size: 8 };
  const fl = ['Clc', 'Stc', 'Cmc', 'Cld', 'Std'].indexOf(mn);
  if (fl >= 0 && ops.length === 0) return { handler: flagOp, op: fl, size: 0 };
  if (/^Nop[wdq]?$/.test(mn) || mn === 'Pause') return { handler: nop, op: 0, size: 0 };
  // Stack
  if (mn === 'Push' && (ops[0] === 'r16' || ops[0] === 'r32' || ops[0] === 'r64' || ops[0]?.startsWith('rm'))) return { handler: pushOp, op: 0, size: s0 };
  if (mn === 'Push' && ops[0] === 'imm16') return { handler: pushOp, op: 0, size: 16 };
  if (/^Push[wdq]$/.test(mn) && ops[0]?.startsWith('imm')) return { handler: pushOp, op: 0, size: SUFFIX_SIZE[mn[4]!]! };
  if (mn === 'Pop' && s0) return { handler: popOp, op: 0, size: s0 };
  if (/^Pushf[wdq]$/.test(mn)) return { handler: pushf, op: 0, size: SUFFIX_SIZE[mn[5]!]! };
  if (/^Popf[wdq]$/.test(mn)) return { handler: popf, op: 0, size: SUFFIX_SIZE[mn[4]!]!, form: FORM_ENDS_BLOCK };
  if (/^Enter[wdq]$/.test(mn)) return { handler: enter, op: 0, size: SUFFIX_SIZE[mn[5]!]! };
  if (/^Leave[wdq]$/.test(mn)) return { handler: leave, op: 0, size: SUFFIX_SIZE[mn[5]!]! };
  // Branches
  if (mn === 'Jmp' && ops[0]?.startsWith('rel')) return { handler: jmpRel, op: 0, size: 0 };
  if (mn === 'Jmp' && /^rm(16|32|64)$/.test(ops[0] ?? '')) return { handler: jmpIndirect, op: 0, size: s0 };
  if (mn.startsWith('J') && CONDITIONS.includes(mn.slice(1)) && ops[0]?.startsWith('rel')) return { handler: jcc, op: CONDITIONS.indexOf(mn.slice(1)), size: 0 };
  if (mn === 'Call' && ops[0] === 'rel16') return { handler: callRel, op: 0, size: 16 };
  if (mn === 'Call' && ops[0] === 'rel32') return { handler: callRel, op: 0, size: Number(ops[1]) };
  if (mn === 'Call' && /^rm(16|32|64)$/.test(ops[0] ?? '')) return { handler: callIndirect, op: 0, size: s0 };
  if (/^Retn[wdq]$/.test(mn)) return { handler: ret, op: 0, size: SUFFIX_SIZE[mn[4]!]! };
  const lp = ['Loop', 'Loope', 'Loopne'].indexOf(mn);
  if (lp >= 0) return { handler: loop, op: lp, size: 0 };
  if (mn === 'Jcxz' || mn === 'Jecxz' || mn === 'Jrcxz') return { handler: jrcxz, op: 0, size: 0 };
  // Strings
  const str = /^(Movs|Stos|Lods|Cmps|Scas)([bwdq])$/.exec(mn);
  if (str && ops[0] !== 'xmm') {
    const h = { Movs: movs, Stos: stos, Lods: lods, Cmps: cmps, Scas: scas }[str[1] as 'Movs']!;
    return { handler: h, op: 0, size: SUFFIX_SIZE[str[2]!]!, form: FORM_STRING };
  }
  // SSE moves
  if (/^(Movaps|Movapd|Movdqa)$/.test(mn) && ops.every((t) => t.startsWith('xmm'))) return { handler: mov128, op: 1, size: 128 };
  if (/^(Movups|Movupd|Movdqu)$/.test(mn) && ops.every((t) => t.startsWith('xmm'))) return { handler: mov128, op: 0, size: 128 };
  if (/^(Pxor|Xorps|Xorpd)$/.test(mn) && ops[0] === 'xmm') return { handler: xor128, op: 0, size: 128 };
  if ((mn === 'Movd' || mn === 'Movq') && ops.length === 2 && ops.every((t) => !t.startsWith('mm'))) {
    const w = mn === 'Movd' ? 32 : 64;
    const both = ops.every((t) => t.startsWith('xmm'));
    const form = (ops[0] === 'xmm' ? FORM_XMM_DEST : 0) | (both ? FORM_XMM_BOTH : 0);
    return { handler: movdq, op: w, size: w, form };
  }
  return undefined;
}

/** The families registered by extendTable, tried in order after the rules above. */
const families: ((name: string) => Entry | undefined)[] = [];
/** Entries by Code value as worked out so far: null for a code we do not implement. */
const entries: (Entry | null | undefined)[] = [];

/**
 * The entry of a Code, undefined when we do not implement it. Worked out on first use and kept: a boot meets a few
 * hundred of iced's 4,900 Codes, and matching every name at load took a tenth of a second of each start.
 */
export function entryOf(code: number): Entry | undefined {
  let e = entries[code];
  if (e === undefined) {
    const name = (Code as unknown as Record<number, string | undefined>)[code];
    e = null;
    if (name !== undefined) {
      const r = rule(name);
      if (r) e = { handler: r.handler, op: r.op, size: r.size, form: r.form ?? 0 };
      else for (const f of families) if ((e = f(name) ?? null) !== null) break;
    }
    entries[code] = e;
  }
  return e ?? undefined;
}

/** Register a system-level family (the system ops file calls this at load, before anything is decoded). */
export function extendTable(match: (name: string) => Entry | undefined): void {
  families.push(match);
}
