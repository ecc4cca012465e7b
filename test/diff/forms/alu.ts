// Integer ALU forms: the add..cmp group, test, inc/dec/neg/not, mul/imul/div/idiv.

import { encode } from '../encode.ts';
import { Gen, maskOf, type RmOp } from '../gen.ts';
import { AF, CF, OF, PF, SF, ZF } from '../layout.ts';
import { ALL, WIDE, DEFAULT_CASES, idOf, izSize, sizeSpec, type Form, type SV } from './common.ts';

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
const LOGIC = new Set(['or', 'and', 'xor', 'test']);

function logicMask(g: Gen, mn: string): void {
  if (LOGIC.has(mn)) g.maskFlags(AF, `AF undefined after ${mn}`);
}

export function aluForms(): Form[] {
  const out: Form[] = [];
  const f = (id: string, undef: string, gen: (g: Gen) => void, cases = DEFAULT_CASES) =>
    out.push({ id, group: 'alu', undefined: undef, cases, gen });

  const twoOp = (mn: string, sv: SV, op8: number, op: number, dir: 'rm,r' | 'r,rm') => {
    const w = sv.size;
    f(idOf(dir === 'rm,r' ? `${mn} r/m#,r#` : `${mn} r#,r/m#`, sv), LOGIC.has(mn) ? 'AF' : '', (g) => {
      const rm = g.rm(w, sv.mode8, 0.5);
      const r = g.reg(w, sv.mode8, { noRex: !sv.rex8 && w === 8 });
      g.setRm(rm, g.value(w));
      g.setReg(r, g.value(w));
      g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? op8 : op], reg: r.enc, rm: Gen.rmSpec(rm) });
      logicMask(g, mn);
    }, 240);
  };
  const rmImm = (mn: string, sv: SV, ext: number, opcode: number, immSize: 1 | 2 | 4, tmpl: string, cases = 180) => {
    const w = sv.size;
    f(idOf(tmpl, sv), LOGIC.has(mn) ? 'AF' : '', (g) => {
      const rm = g.rm(w, sv.mode8, 0.5);
      g.setRm(rm, g.value(w));
      g.code = encode({ ...sizeSpec(sv), opcode: [opcode], reg: ext, rm: Gen.rmSpec(rm), imm: { value: g.value(immSize * 8), size: immSize } });
      logicMask(g, mn);
    }, cases);
  };
  const accImm = (mn: string, sv: SV, opcode: number, tmpl: string) => {
    const w = sv.size, isz = izSize(w);
    f(idOf(tmpl, sv), LOGIC.has(mn) ? 'AF' : '', (g) => {
      g.reserve(0);
      g.setReg(0, g.rng.u64());
      g.setReg({ gpr: 0, shift: 0, size: w }, g.value(w));
      g.code = encode({ ...sizeSpec(sv), opcode: [opcode], imm: { value: g.value(isz * 8), size: isz } });
      logicMask(g, mn);
    });
  };

  ALU.forEach((mn, n) => {
    for (const sv of ALL) {
      twoOp(mn, sv, n * 8, n * 8 + 1, 'rm,r');
      twoOp(mn, sv, n * 8 + 2, n * 8 + 3, 'r,rm');
      rmImm(mn, sv, n, sv.size === 8 ? 0x80 : 0x81, izSize(sv.size), `${mn} r/m#,imm${sv.size === 8 ? 8 : sv.size === 16 ? 16 : 32}`);
      if (sv.size !== 8) rmImm(mn, sv, n, 0x83, 1, `${mn} r/m#,imm8`);
      if (!sv.rex8) accImm(mn, sv, n * 8 + (sv.size === 8 ? 4 : 5), `${mn} ${({ 8: 'al', 16: 'ax', 32: 'eax', 64: 'rax' })[sv.size]},imm`);
    }
  });

  for (const sv of ALL) {
    twoOp('test', sv, 0x84, 0x85, 'rm,r');
    rmImm('test', sv, 0, sv.size === 8 ? 0xf6 : 0xf7, izSize(sv.size), 'test r/m#,imm');
    if (!sv.rex8) accImm('test', sv, sv.size === 8 ? 0xa8 : 0xa9, `test ${({ 8: 'al', 16: 'ax', 32: 'eax', 64: 'rax' })[sv.size]},imm`);
  }

  // inc dec (FE/FF /0 /1), not neg (F6/F7 /2 /3): all flags they touch are defined.
  const unary: [string, number, number][] = [['inc', 0xfe, 0], ['dec', 0xfe, 1], ['not', 0xf6, 2], ['neg', 0xf6, 3]];
  for (const [mn, op8, ext] of unary) {
    for (const sv of ALL) {
      f(idOf(`${mn} r/m#`, sv), '', (g) => {
        const rm = g.rm(sv.size, sv.mode8, 0.5);
        g.setRm(rm, g.value(sv.size));
        g.code = encode({ ...sizeSpec(sv), opcode: [sv.size === 8 ? op8 : op8 + 1], reg: ext, rm: Gen.rmSpec(rm) });
      }, 200);
    }
  }

  // One-operand mul/imul/div/idiv (F6/F7 /4../7).
  const muldiv: [string, number][] = [['mul', 4], ['imul', 5], ['div', 6], ['idiv', 7]];
  for (const [mn, ext] of muldiv) {
    const isDiv = ext >= 6;
    for (const sv of ALL) {
      const w = sv.size;
      f(idOf(`${mn} r/m#`, sv), isDiv ? 'CF OF SF ZF AF PF (all six after div/idiv)' : 'SF ZF AF PF', (g) => {
        g.reserve(0, 2);
        const rm = g.rm(w, sv.mode8, 0.5);
        const lo = w === 8 ? { gpr: 0, shift: 0 as const, size: 8 as const } : { gpr: 0, shift: 0 as const, size: w };
        const hi = w === 8 ? { gpr: 0, shift: 8 as const, size: 8 as const } : { gpr: 2, shift: 0 as const, size: w };
        let divisor = g.value(w), a = g.value(w), d = g.value(w);
        if (isDiv) {
          const r = g.rng.int(10);
          if (r === 0) divisor = 0n;                                           // #DE: divide by zero
          else if (r <= 5 && divisor !== 0n) {                                 // no overflow
            if (ext === 6) d = BigInt.asUintN(w, d) % divisor;
            else {
              // idiv: dividend = sign-extended small value → quotient fits
              a = g.value(w); d = (a >> BigInt(w - 1)) & 1n ? maskOf(w) : 0n;
            }
          } else if (r === 6 && ext === 7) { a = 0n; d = 1n << BigInt(w - 1); divisor = maskOf(w); } // -2^(2w-1) / -1
        }
        g.setRm(rm, divisor);
        g.setReg(lo, a);
        g.setReg(hi, d);
        g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? 0xf6 : 0xf7], reg: ext, rm: Gen.rmSpec(rm) });
        if (isDiv) g.maskFlags(CF | OF | SF | ZF | AF | PF, `${mn}: CF OF SF ZF AF PF undefined`);
        else g.maskFlags(SF | ZF | AF | PF, `${mn}: SF ZF AF PF undefined`);
      }, isDiv ? 400 : 240);
    }
  }

  // imul r, r/m (0F AF) and imul r, r/m, imm8/imm (6B / 69).
  for (const sv of WIDE) {
    const w = sv.size;
    const forms3: [string, number[], (0 | 1 | 2 | 4)][] = [['imul r#,r/m#', [0x0f, 0xaf], 0], ['imul r#,r/m#,imm8', [0x6b], 1], [`imul r#,r/m#,imm${w === 16 ? 16 : 32}`, [0x69], izSize(w)]];
    for (const [tmpl, opcode, isz] of forms3) {
      f(idOf(tmpl, sv), 'SF ZF AF PF', (g) => {
        const rm: RmOp = g.rm(w, sv.mode8, 0.5);
        const r = g.reg(w);
        g.setRm(rm, g.value(w));
        g.setReg(r, g.value(w));
        g.code = encode({ ...sizeSpec(sv), opcode, reg: r.enc, rm: Gen.rmSpec(rm), ...(isz ? { imm: { value: g.value(isz * 8), size: isz as 1 | 2 | 4 } } : {}) });
        g.maskFlags(SF | ZF | AF | PF, 'imul: SF ZF AF PF undefined');
      }, 240);
    }
  }
  return out;
}
