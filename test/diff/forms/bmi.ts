// BMI1/BMI2 (VEX-encoded, 32/64-bit, register and memory sources), ADX
// (adcx/adox) and movbe. The host's CPUID is checked in diff.test.ts: a
// form whose feature (FORM_FEATURES) the host lacks is skipped, with the
// reason printed.
//
// Masked flags (Intel SDM Vol. 2 ∪ AMD APM Vol. 3, which agree here):
//   andn blsi blsmsk blsr bzhi: AF PF undefined.  bextr: AF SF PF undefined.
//   mulx pdep pext rorx sarx shlx shrx: flags unaffected (all compared).
//   adcx/adox: only CF/OF written (all compared).  movbe: none.
// VEX.L = 1 must raise #UD (both manuals: "VEX.L = 1: #UD"); a few cases check it.

import { encode, type EncodeSpec } from '../encode.ts';
import { Gen, maskOf, type RmOp } from '../gen.ts';
import { AF, PF, SF } from '../layout.ts';
import { FORM_FEATURES, type Form } from './common.ts';

/** Operand layout: reg field, VEX.vvvv and r/m roles, as each instruction's manual page lists them. */
type Shape = 'r,v,rm' | 'r,rm,v' | 'v,rm' | 'r,rm,imm';

interface Bmi { mn: string; feature: 'bmi1' | 'bmi2'; map: 2 | 3; pp: 0 | 1 | 2 | 3; op: number; shape: Shape; ext?: number; undef: number }

const BMI: Bmi[] = [
  { mn: 'andn', feature: 'bmi1', map: 2, pp: 0, op: 0xf2, shape: 'r,v,rm', undef: AF | PF },
  { mn: 'bextr', feature: 'bmi1', map: 2, pp: 0, op: 0xf7, shape: 'r,rm,v', undef: AF | SF | PF },
  { mn: 'blsr', feature: 'bmi1', map: 2, pp: 0, op: 0xf3, shape: 'v,rm', ext: 1, undef: AF | PF },
  { mn: 'blsmsk', feature: 'bmi1', map: 2, pp: 0, op: 0xf3, shape: 'v,rm', ext: 2, undef: AF | PF },
  { mn: 'blsi', feature: 'bmi1', map: 2, pp: 0, op: 0xf3, shape: 'v,rm', ext: 3, undef: AF | PF },
  { mn: 'bzhi', feature: 'bmi2', map: 2, pp: 0, op: 0xf5, shape: 'r,rm,v', undef: AF | PF },
  { mn: 'pext', feature: 'bmi2', map: 2, pp: 2, op: 0xf5, shape: 'r,v,rm', undef: 0 },
  { mn: 'pdep', feature: 'bmi2', map: 2, pp: 3, op: 0xf5, shape: 'r,v,rm', undef: 0 },
  { mn: 'mulx', feature: 'bmi2', map: 2, pp: 3, op: 0xf6, shape: 'r,v,rm', undef: 0 },
  { mn: 'shlx', feature: 'bmi2', map: 2, pp: 1, op: 0xf7, shape: 'r,rm,v', undef: 0 },
  { mn: 'sarx', feature: 'bmi2', map: 2, pp: 2, op: 0xf7, shape: 'r,rm,v', undef: 0 },
  { mn: 'shrx', feature: 'bmi2', map: 2, pp: 3, op: 0xf7, shape: 'r,rm,v', undef: 0 },
  { mn: 'rorx', feature: 'bmi2', map: 3, pp: 3, op: 0xf0, shape: 'r,rm,imm', undef: 0 },
];

const FLAG_NAMES: [number, string][] = [[AF, 'AF'], [SF, 'SF'], [PF, 'PF']];
const flagList = (m: number) => FLAG_NAMES.filter(([b]) => m & b).map(([, n]) => n).join(' ');

/** A second-operand value shaped for the instruction: bextr's start/length, bzhi's index, shift counts, pdep/pext masks. */
function control(g: Gen, mn: string, w: number): bigint {
  const r = g.rng;
  const edge = (n: number) => r.bool(0.6) ? r.pick([0, 1, 2, n - 1, n, n + 1, 2 * n - 1, 2 * n, 127, 128, 255]) & 0xff : r.range(0, 255);
  if (mn === 'bextr') return (r.u64() & ~0xffffn & maskOf(w)) | BigInt(edge(w) << 8 | edge(w));
  if (mn === 'bzhi') return (r.u64() & ~0xffn & maskOf(w)) | BigInt(edge(w));
  if (mn.endsWith('x') && mn !== 'mulx') return r.bool(0.5) ? BigInt(g.count(w)) : g.value(w);
  if (mn === 'pdep' || mn === 'pext') {
    switch (r.int(5)) {
      case 0: return maskOf(w);
      case 1: return (maskOf(w) << BigInt(r.int(w))) & maskOf(w);
      case 2: return 1n << BigInt(r.int(w));
      default: return g.value(w);
    }
  }
  return g.value(w);
}

export function bmiForms(): Form[] {
  const out: Form[] = [];
  for (const b of BMI) {
    for (const w of [32, 64] as const) {
      const id = `${b.mn} r${w}${b.shape === 'v,rm' ? `,r/m${w}` : b.shape === 'r,rm,imm' ? `,r/m${w},imm8` : b.shape === 'r,v,rm' ? `,r${w},r/m${w}` : `,r/m${w},r${w}`}`;
      FORM_FEATURES.set(id, b.feature);
      out.push({ id, group: 'bmi', undefined: b.undef ? flagList(b.undef) : '', cases: 400, gen: (g) => {
        const l = g.index % 25 === 24 ? 1 : 0; // VEX.L = 1: #UD
        g.ud = l === 1;
        if (b.mn === 'mulx') g.reserve(2);
        const rm: RmOp = g.rm(w, 'rex', 0.5);
        const dst = g.reg(w, 'rex', { allowRsp: false });
        const other = b.shape === 'r,v,rm' || b.shape === 'r,rm,v' ? g.reg(w, 'rex', { allowRsp: false }) : null;
        if (b.mn === 'mulx') g.setReg(2, g.rng.bool(0.5) ? g.value(64) : g.rng.u64());
        // Sources: for r,v,rm the vvvv register is the value, r/m the mask/multiplier; for r,rm,v r/m is the value.
        const val = g.value(w);
        if (b.shape === 'r,rm,v') { g.setRm(rm, val); g.setReg(other!, control(g, b.mn, w)); }
        else if (b.shape === 'r,v,rm') { g.setReg(other!, val); g.setRm(rm, control(g, b.mn, w)); }
        else g.setRm(rm, g.rng.bool(0.1) ? 0n : val);
        let reg = dst.enc, vvvv = 0;
        if (b.shape === 'v,rm') { vvvv = dst.enc; reg = b.ext!; }
        else if (other) vvvv = other.enc;
        // mulx with the same register for both halves: it gets the high half.
        if (b.mn === 'mulx' && g.rng.bool(0.15)) vvvv = reg;
        const spec: EncodeSpec = { rexW: w === 64, opcode: [b.op], reg, rm: Gen.rmSpec(rm), vex: { map: b.map, pp: b.pp, vvvv, l } };
        if (b.shape === 'r,rm,imm') spec.imm = { value: g.rng.bool(0.5) ? g.count(w) : g.rng.range(0, 255), size: 1 };
        g.code = encode(spec);
        if (b.undef) g.maskFlags(b.undef, `${b.mn}: ${flagList(b.undef)} undefined`);
      } });
    }
  }

  // adcx (66 0F 38 F6) / adox (F3 0F 38 F6): carry in and out through CF / OF only.
  for (const [mn, pre] of [['adcx', 0x66], ['adox', 0xf3]] as const) {
    for (const w of [32, 64] as const) {
      const id = `${mn} r${w},r/m${w}`;
      FORM_FEATURES.set(id, 'adx');
      out.push({ id, group: 'adx', undefined: '', cases: 300, gen: (g) => {
        const rm = g.rm(w, 'rex', 0.5);
        const r = g.reg(w);
        g.setRm(rm, g.value(w)); g.setReg(r, g.value(w));
        g.code = encode({ prefixes: [pre], rexW: w === 64, opcode: [0x0f, 0x38, 0xf6], reg: r.enc, rm: Gen.rmSpec(rm) });
      } });
    }
  }

  // movbe load (0F 38 F0) / store (0F 38 F1), memory operand only; 16-bit loads merge into the register.
  for (const store of [false, true]) {
    for (const w of [16, 32, 64] as const) {
      const id = store ? `movbe m${w},r${w}` : `movbe r${w},m${w}`;
      FORM_FEATURES.set(id, 'movbe');
      out.push({ id, group: 'movbe', undefined: '', cases: 200, gen: (g) => {
        const rm = g.rm(w, 'rex', 1);
        const r = g.reg(w);
        g.setRm(rm, g.value(w)); g.setReg(r, g.value(w));
        g.code = encode({ prefixes: w === 16 ? [0x66] : [], rexW: w === 64, opcode: [0x0f, 0x38, store ? 0xf1 : 0xf0], reg: r.enc, rm: Gen.rmSpec(rm) });
      } });
    }
  }
  return out;
}
