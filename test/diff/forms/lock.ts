// lock-prefixed read-modify-write forms: add or adc sbb and sub xor (m,r and
// m,imm), inc dec not neg, xchg, cmpxchg, xadd, bts btr btc (m,r and
// m,imm8), 8/16/32/64-bit, and cmpxchg8b/16b. One case in ten puts a
// register where the memory operand belongs, and `lock cmp` is there too:
// both must raise #UD.
// Masked as in the unlocked forms: AF after or/and/xor (Intel SDM ∪ AMD
// APM: undefined); OF SF ZF AF PF after bts/btr/btc (see bits.ts).

import { encode } from '../encode.ts';
import { Gen } from '../gen.ts';
import { AF, OF, PF, SF, ZF } from '../layout.ts';
import { ALL, WIDE, idOf, izSize, sizeSpec, type Form, type SV } from './common.ts';
import { cmpxchgWideCase } from './move.ts';

const LOCK = 0xf0;

export function lockForms(): Form[] {
  const out: Form[] = [];
  const f = (id: string, undef: string, gen: (g: Gen) => void, cases = 120) => out.push({ id: `lock ${id}`, group: 'lock', undefined: undef, cases, gen: (g) => {
    gen(g);
    if (id.startsWith('cmp ')) g.ud = true; // lock cmp: #UD (so is lock with a register operand: mem() below)
  } });
  const mem = (g: Gen, sv: SV, opts: { lo?: number; hi?: number } = {}) => {
    const rm = g.rm(sv.size, sv.mode8, 0.9, opts);
    if (rm.kind === 'reg') g.ud = true;
    return rm;
  };

  const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
  ALU.forEach((mn, n) => {
    const logic = mn === 'or' || mn === 'and' || mn === 'xor';
    for (const sv of ALL) {
      const w = sv.size;
      f(idOf(`${mn} r/m#,r#`, sv), logic ? 'AF' : '', (g) => {
        const rm = mem(g, sv);
        const r = g.reg(w, sv.mode8, { noRex: w === 8 && !sv.rex8 });
        g.setRm(rm, g.value(w)); g.setReg(r, g.value(w));
        g.code = encode({ ...sizeSpec(sv, [LOCK]), opcode: [w === 8 ? n * 8 : n * 8 + 1], reg: r.enc, rm: Gen.rmSpec(rm) });
        if (logic) g.maskFlags(AF, `${mn}: AF undefined`);
      });
      const imm8 = w !== 8 && n % 2 === 0; // the 83 /n sign-extended imm8 form on every other op
      f(idOf(`${mn} r/m#,imm${imm8 ? 8 : w === 8 ? 8 : w === 16 ? 16 : 32}`, sv), logic ? 'AF' : '', (g) => {
        const rm = mem(g, sv);
        g.setRm(rm, g.value(w));
        const isz = imm8 ? 1 : izSize(w);
        g.code = encode({ ...sizeSpec(sv, [LOCK]), opcode: [w === 8 ? 0x80 : imm8 ? 0x83 : 0x81], reg: n, rm: Gen.rmSpec(rm), imm: { value: g.value(isz * 8), size: isz } });
        if (logic) g.maskFlags(AF, `${mn}: AF undefined`);
      });
    }
  });

  const unary: [string, number, number][] = [['inc', 0xfe, 0], ['dec', 0xfe, 1], ['not', 0xf6, 2], ['neg', 0xf6, 3]];
  for (const [mn, op8, ext] of unary) {
    for (const sv of ALL) {
      f(idOf(`${mn} r/m#`, sv), '', (g) => {
        const rm = mem(g, sv);
        g.setRm(rm, g.value(sv.size));
        g.code = encode({ ...sizeSpec(sv, [LOCK]), opcode: [sv.size === 8 ? op8 : op8 + 1], reg: ext, rm: Gen.rmSpec(rm) });
      });
    }
  }

  for (const sv of ALL) {
    const w = sv.size, legacy8 = w === 8 && !sv.rex8;
    const pairs: [string, number[]][] = [['xchg', [w === 8 ? 0x86 : 0x87]], ['cmpxchg', [0x0f, w === 8 ? 0xb0 : 0xb1]], ['xadd', [0x0f, w === 8 ? 0xc0 : 0xc1]]];
    for (const [mn, opcode] of pairs) {
      f(idOf(`${mn} r/m#,r#`, sv), '', (g) => {
        g.reserve(0);
        const rm = mem(g, sv);
        const r = g.reg(w, sv.mode8, { noRex: legacy8 });
        const dv = g.value(w);
        g.setRm(rm, dv); g.setReg(r, g.value(w));
        g.setReg({ gpr: 0, shift: 0, size: w }, g.rng.bool(0.5) ? dv : g.value(w)); // cmpxchg: equal half the time
        g.code = encode({ ...sizeSpec(sv, [LOCK]), opcode, reg: r.enc, rm: Gen.rmSpec(rm) });
      });
    }
  }

  // cmpxchg8b / cmpxchg16b: register operands (#UD) and misaligned cmpxchg16b (#GP) as in the unlocked forms.
  f('cmpxchg8b m64', '', (g) => cmpxchgWideCase(g, false, [LOCK]));
  f('cmpxchg16b m128', '', (g) => cmpxchgWideCase(g, true, [LOCK]));

  const bt: [string, number, number][] = [['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]];
  for (const [mn, op, ext] of bt) {
    for (const sv of WIDE) {
      const w = sv.size;
      f(idOf(`${mn} r/m#,r#`, sv), 'OF SF ZF AF PF', (g) => {
        const rm = mem(g, sv, { lo: 96, hi: 160 }); // the bit offset may reach ±64 bytes beyond the operand
        const r = g.reg(w);
        g.setRm(rm, g.value(w));
        g.setReg(r, BigInt.asUintN(w, BigInt(rm.kind === 'mem' ? g.rng.range(-512, 511) : g.rng.range(0, 255))));
        g.code = encode({ ...sizeSpec(sv, [LOCK]), opcode: [0x0f, op], reg: r.enc, rm: Gen.rmSpec(rm) });
        g.maskFlags(OF | SF | ZF | AF | PF, `${mn}: OF SF ZF AF PF undefined`);
      });
      f(idOf(`${mn} r/m#,imm8`, sv), 'OF SF ZF AF PF', (g) => {
        const rm = mem(g, sv);
        g.setRm(rm, g.value(w));
        g.code = encode({ ...sizeSpec(sv, [LOCK]), opcode: [0x0f, 0xba], reg: ext, rm: Gen.rmSpec(rm), imm: { value: g.rng.range(0, 255), size: 1 } });
        g.maskFlags(OF | SF | ZF | AF | PF, `${mn}: OF SF ZF AF PF undefined`);
      });
    }
  }
  return out;
}
