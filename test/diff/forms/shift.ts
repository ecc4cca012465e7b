// Shifts and rotates (by 1, by imm8, by CL) and shld/shrd.
//
// Masked flags (Intel SDM ∪ AMD APM), with c = count & (64-bit ? 63 : 31):
//   c = 0: nothing changes, nothing masked.
//   rol ror rcl rcr: OF undefined when c > 1.
//   shl shr sar: AF undefined when c ≠ 0; OF undefined when c > 1;
//                CF undefined for shl/shr when c ≥ operand width (8/16-bit forms).
//   shld shrd:   AF undefined when c ≠ 0; OF undefined when c > 1; for 16-bit
//                operands with c > 16 the destination and CF OF SF ZF AF PF are undefined.

import { encode } from '../encode.ts';
import { Gen } from '../gen.ts';
import { AF, CF, OF, PF, SF, ZF } from '../layout.ts';
import { ALL, WIDE, idOf, sizeSpec, type Form } from './common.ts';

const OPS: [string, number][] = [['rol', 0], ['ror', 1], ['rcl', 2], ['rcr', 3], ['shl', 4], ['shr', 5], ['sar', 7]];

function shiftMasks(g: Gen, mn: string, w: number, raw: number): void {
  const c = raw & (w === 64 ? 63 : 31);
  if (c === 0) return;
  const rot = mn.startsWith('r');
  if (c > 1) g.maskFlags(OF, `${mn}: OF undefined for count ${c} > 1`);
  if (rot) return;
  g.maskFlags(AF, `${mn}: AF undefined for a nonzero count`);
  if ((mn === 'shl' || mn === 'shr') && c >= w) g.maskFlags(CF, `${mn}: CF undefined for count ${c} ≥ width ${w}`);
}

export function shiftForms(): Form[] {
  const out: Form[] = [];
  for (const [mn, ext] of OPS) {
    const rot = mn.startsWith('r');
    const undef = rot ? 'OF if count>1' : `AF if count≠0; OF if count>1${mn === 'sar' ? '' : '; CF if count≥width (8/16-bit)'}`;
    for (const sv of ALL) {
      const w = sv.size;
      const op = (base: number) => (w === 8 ? base : base + 1);
      out.push({ id: idOf(`${mn} r/m#,1`, sv), group: 'shift', undefined: undef, cases: 160, gen: (g) => {
        const rm = g.rm(w, sv.mode8, 0.5);
        g.setRm(rm, g.value(w));
        g.code = encode({ ...sizeSpec(sv), opcode: [op(0xd0)], reg: ext, rm: Gen.rmSpec(rm) });
        shiftMasks(g, mn, w, 1);
      } });
      out.push({ id: idOf(`${mn} r/m#,cl`, sv), group: 'shift', undefined: undef, cases: 280, gen: (g) => {
        g.reserve(1);
        const rm = g.rm(w, sv.mode8, 0.5);
        g.setRm(rm, g.value(w));
        const c = g.count(w);
        g.setReg({ gpr: 1, shift: 0, size: 8 }, BigInt(c));
        g.code = encode({ ...sizeSpec(sv), opcode: [op(0xd2)], reg: ext, rm: Gen.rmSpec(rm) });
        shiftMasks(g, mn, w, c);
      } });
      out.push({ id: idOf(`${mn} r/m#,imm8`, sv), group: 'shift', undefined: undef, cases: 280, gen: (g) => {
        const rm = g.rm(w, sv.mode8, 0.5);
        g.setRm(rm, g.value(w));
        const c = g.count(w);
        g.code = encode({ ...sizeSpec(sv), opcode: [op(0xc0)], reg: ext, rm: Gen.rmSpec(rm), imm: { value: c, size: 1 } });
        shiftMasks(g, mn, w, c);
      } });
    }
  }

  const dbl: [string, number[], boolean][] = [
    ['shld r/m#,r#,imm8', [0x0f, 0xa4], false], ['shld r/m#,r#,cl', [0x0f, 0xa5], true],
    ['shrd r/m#,r#,imm8', [0x0f, 0xac], false], ['shrd r/m#,r#,cl', [0x0f, 0xad], true],
  ];
  for (const [tmpl, opcode, byCl] of dbl) {
    const mn = tmpl.slice(0, 4);
    for (const sv of WIDE) {
      const w = sv.size;
      out.push({ id: idOf(tmpl, sv), group: 'shift', undefined: 'AF if count≠0; OF if count>1; 16-bit with count>16: destination and CF OF SF ZF AF PF', cases: 320, gen: (g) => {
        if (byCl) g.reserve(1);
        const rm = g.rm(w, sv.mode8, 0.5);
        const r = g.reg(w);
        g.setRm(rm, g.value(w));
        g.setReg(r, g.value(w));
        const c = g.count(w);
        if (byCl) g.setReg({ gpr: 1, shift: 0, size: 8 }, BigInt(c));
        g.code = encode({ ...sizeSpec(sv), opcode, reg: r.enc, rm: Gen.rmSpec(rm), ...(byCl ? {} : { imm: { value: c, size: 1 as const } }) });
        const m = c & (w === 64 ? 63 : 31);
        if (m === 0) return;
        g.maskFlags(AF, `${mn}: AF undefined for a nonzero count`);
        if (m > 1) g.maskFlags(OF, `${mn}: OF undefined for count ${m} > 1`);
        if (w === 16 && m > 16) {
          g.maskFlags(CF | OF | SF | ZF | AF | PF, `${mn}: 16-bit count ${m} > 16: flags undefined`);
          g.maskDest(rm, `${mn}: 16-bit count ${m} > 16: destination undefined`);
        }
      } });
    }
  }
  return out;
}
