// Bit instructions: bt/bts/btr/btc (register and imm8 bit offsets, register
// and memory bases) and bsf/bsr/tzcnt/lzcnt/popcnt.
//
// Masked: bt*: OF SF AF PF undefined (Intel SDM; older SDM editions and the
// AMD APM also list ZF, so ZF is masked too).  bsf/bsr: CF OF SF AF PF
// undefined; with a zero source the destination is undefined on Intel (AMD
// documents it unchanged) — masked.  tzcnt/lzcnt: OF SF AF PF undefined.
// popcnt: nothing undefined.

import { encode } from '../encode.ts';
import { Gen, maskOf } from '../gen.ts';
import { AF, CF, OF, PF, SF, ZF } from '../layout.ts';
import { FORM_FEATURES, WIDE, idOf, sizeSpec, type Form } from './common.ts';

export function bitForms(): Form[] {
  const out: Form[] = [];
  const bt: [string, number, number][] = [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]];
  for (const [mn, op, ext] of bt) {
    for (const sv of WIDE) {
      const w = sv.size;
      out.push({ id: idOf(`${mn} r/m#,r#`, sv), group: 'bt', undefined: 'OF SF ZF AF PF', cases: 300, gen: (g) => {
        // A memory base with a register offset addresses beyond the operand:
        // keep the operand mid-window and the offset within ±512 bits.
        const rm = g.rm(w, 'rex', 0.5, { lo: 96, hi: 160 });
        const r = g.reg(w);
        g.setRm(rm, g.value(w));
        const off = rm.kind === 'mem' ? BigInt(g.rng.bool(0.3) ? g.rng.pick([0, 1, -1, w - 1, w, -w, w + 1, -w - 1, 8, -8]) : g.rng.range(-512, 511)) : g.value(w);
        g.setReg(r, BigInt.asUintN(w, off));
        g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, op], reg: r.enc, rm: Gen.rmSpec(rm) });
        g.maskFlags(OF | SF | ZF | AF | PF, `${mn}: OF SF ZF AF PF undefined`);
      } });
      out.push({ id: idOf(`${mn} r/m#,imm8`, sv), group: 'bt', undefined: 'OF SF ZF AF PF', cases: 200, gen: (g) => {
        const rm = g.rm(w, 'rex', 0.5);
        g.setRm(rm, g.value(w));
        const imm = g.rng.bool(0.5) ? g.rng.pick([0, 1, w - 1, w, w + 1, 2 * w - 1, 127, 128, 255]) : g.rng.range(0, 255);
        g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, 0xba], reg: ext, rm: Gen.rmSpec(rm), imm: { value: imm, size: 1 } });
        g.maskFlags(OF | SF | ZF | AF | PF, `${mn}: OF SF ZF AF PF undefined`);
      } });
    }
  }

  const scans: [string, number[], number[], number][] = [
    ['bsf', [], [0x0f, 0xbc], CF | OF | SF | AF | PF],
    ['bsr', [], [0x0f, 0xbd], CF | OF | SF | AF | PF],
    ['tzcnt', [0xf3], [0x0f, 0xbc], OF | SF | AF | PF],
    ['lzcnt', [0xf3], [0x0f, 0xbd], OF | SF | AF | PF],
    ['popcnt', [0xf3], [0x0f, 0xb8], 0],
  ];
  const FLAG_NAMES: [number, string][] = [[CF, 'CF'], [OF, 'OF'], [SF, 'SF'], [ZF, 'ZF'], [AF, 'AF'], [PF, 'PF']];
  const names = (m: number) => FLAG_NAMES.filter(([b]) => m & b).map(([, n]) => n).join(' ');
  for (const [mn, pre, opcode, undef] of scans) {
    for (const sv of WIDE) {
      const w = sv.size;
      const isBs = mn.startsWith('bs');
      // Without the feature these encodings run as bsf/bsr (rep ignored) or are #UD.
      if (!isBs) FORM_FEATURES.set(idOf(`${mn} r#,r/m#`, sv), mn === 'tzcnt' ? 'bmi1' : mn);
      out.push({ id: idOf(`${mn} r#,r/m#`, sv), group: 'bitscan', undefined: names(undef) + (isBs ? '; destination when the source is 0' : ''), cases: 240, gen: (g) => {
        const rm = g.rm(w, 'rex', 0.5);
        const r = g.reg(w);
        let v = g.value(w);
        const k = g.rng.int(8);
        if (k === 0) v = 0n;
        else if (k === 1) v = 1n << BigInt(g.rng.int(w));                 // single bit
        else if (k === 2) v = (maskOf(w) << BigInt(g.rng.int(w))) & maskOf(w); // trailing zeros
        g.setRm(rm, v);
        g.setReg(r, g.value(w));
        g.code = encode({ ...sizeSpec(sv, pre), opcode, reg: r.enc, rm: Gen.rmSpec(rm) });
        if (undef) g.maskFlags(undef, `${mn}: ${names(undef)} undefined`);
        if (isBs && v === 0n) g.maskDest(r, `${mn}: zero source, destination undefined (Intel)`);
      } });
    }
  }
  return out;
}
