// Segment overrides in 64-bit mode: FS and GS add their base (set per case:
// arch_prctl on the host, the FS/GS base MSRs in the core), with the base
// below, at or above the operand (the offset then wraps), with both address
// sizes; lea ignores the base; movs/lods take the override on their source
// only. ES CS SS DS overrides are ignored in 64-bit mode.

import type { Mem } from '../encode.ts';
import { encode } from '../encode.ts';
import { Gen } from '../gen.ts';
import { DATA_WIN, DF } from '../layout.ts';
import { ALL, S64, idOf, sizeSpec, type Form, type SV } from './common.ts';

const SEGS: [string, number][] = [['fs', 0x64], ['gs', 0x65]];

/** A memory operand that reaches data-window address `addr` through segment `seg`'s base (chosen here). */
function segMem(g: Gen, seg: string, addr: number, noRex = false): Mem {
  const r = g.rng;
  const k = r.int(4);
  const offset = k === 0 ? 0 : k === 1 ? r.range(0, addr) : k === 2 ? r.range(0, 0x1000) : -r.range(1, 0x7000_0000);
  const base = BigInt(addr - offset);
  if (seg === 'fs') g.fsBase = base; else g.gsBase = base;
  // A negative offset only reaches addr with 64-bit address arithmetic.
  return g.memAt(addr - Number(base), k === 3 ? { addr32: false, noRex } : { noRex });
}

export function segmentForms(): Form[] {
  const out: Form[] = [];
  const f = (id: string, gen: (g: Gen) => void, cases = 120) => out.push({ id, group: 'segment', undefined: '', cases, gen });
  for (const [seg, pre] of SEGS) {
    for (const sv of ALL) {
      const w = sv.size, legacy8 = w === 8 && !sv.rex8;
      const memOp = (g: Gen, sv2: SV) => { const addr = g.dataAddr(sv2.size / 8); return { addr, mem: segMem(g, seg, addr, legacy8) }; };
      f(idOf(`mov r#,${seg}:m#`, sv), (g) => {
        const { addr, mem } = memOp(g, sv);
        g.poke(addr, g.value(w), w / 8);
        const r = g.reg(w, sv.mode8, { noRex: legacy8 });
        g.code = encode({ ...sizeSpec(sv, [pre]), opcode: [w === 8 ? 0x8a : 0x8b], reg: r.enc, rm: { mem } });
      });
      f(idOf(`mov ${seg}:m#,r#`, sv), (g) => {
        const { mem } = memOp(g, sv);
        const r = g.reg(w, sv.mode8, { noRex: legacy8 });
        g.setReg(r, g.value(w));
        g.code = encode({ ...sizeSpec(sv, [pre]), opcode: [w === 8 ? 0x88 : 0x89], reg: r.enc, rm: { mem } });
      });
      f(idOf(`add ${seg}:m#,r#`, sv), (g) => {
        const { addr, mem } = memOp(g, sv);
        g.poke(addr, g.value(w), w / 8);
        const r = g.reg(w, sv.mode8, { noRex: legacy8 });
        g.setReg(r, g.value(w));
        g.code = encode({ ...sizeSpec(sv, [pre]), opcode: [w === 8 ? 0x00 : 0x01], reg: r.enc, rm: { mem } });
      });
    }
    f(`lea r64,${seg}:m (base ignored)`, (g) => {
      const mem = segMem(g, seg, g.dataAddr(1));
      const r = g.reg(64);
      g.code = encode({ ...sizeSpec(S64, [pre]), opcode: [0x8d], reg: r.enc, rm: { mem } });
    });
    f(`push ${seg}:m64`, (g) => {
      g.reserve(4);
      const addr = g.dataAddr(8);
      const mem = segMem(g, seg, addr);
      g.poke(addr, g.value(64), 8);
      g.code = encode({ ...sizeSpec(S64, [pre]), opcode: [0xff], reg: 6, rm: { mem } });
    });
    // String sources: lods/movs read seg:[rsi]; movs writes es:[rdi] (no override possible).
    for (const [mn, op] of [['lods', 0xac], ['movs', 0xa4]] as const) {
      for (const [sfx, sz] of [['b', 1], ['q', 8]] as const) {
        for (const rep of [false, true]) {
          f(`${rep ? 'rep ' : ''}${mn}${sfx} ${seg}:`, (g) => {
            g.reserve(0, 1, 6, 7);
            const down = g.rng.bool(0.5);
            g.rflags = down ? g.rflags | DF : g.rflags & ~DF;
            const n = rep ? g.rng.range(0, 8) : 1;
            g.setReg(1, BigInt(n));
            const src = DATA_WIN + g.rng.range(64, 128), dst = DATA_WIN + g.rng.range(136, 192);
            const base = BigInt(g.rng.pick([0, g.rng.range(0, src), src - g.rng.range(0, 64)]));
            if (seg === 'fs') g.fsBase = base; else g.gsBase = base;
            g.setReg(6, BigInt(src) - base);
            g.setReg(7, BigInt(dst));
            g.code = encode({ prefixes: [...(rep ? [0xf3] : []), pre], rexW: sz === 8, opcode: [sz === 1 ? op : op + 1] });
            g.rep = rep;
          });
        }
      }
    }
  }
  // ES CS SS DS: no base in 64-bit mode; the prefix is decoded and ignored.
  for (const [seg, pre] of [['es', 0x26], ['cs', 0x2e], ['ss', 0x36], ['ds', 0x3e]] as const) {
    f(`mov r64,${seg}:m64 (ignored)`, (g) => {
      const addr = g.dataAddr(8);
      g.poke(addr, g.value(64), 8);
      const r = g.reg(64);
      g.code = encode({ ...sizeSpec(S64, [pre]), opcode: [0x8b], reg: r.enc, rm: { mem: g.memAt(addr) } });
    }, 60);
  }
  return out;
}
