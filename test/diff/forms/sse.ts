// SSE moves: movaps movups movdqa movdqu movq movd, pxor xorps; register
// and memory forms.  Aligned forms get a misaligned address in ~20% of the
// memory cases (expected #GP on both sides).

import { encode } from '../encode.ts';
import { Gen } from '../gen.ts';
import type { Form } from './common.ts';

interface SseForm { id: string; pre: number[]; op: number[]; w?: boolean; size: 4 | 8 | 16; align: boolean; gprRm?: boolean; store?: boolean }

const FORMS: SseForm[] = [
  { id: 'movaps xmm,xmm/m128', pre: [], op: [0x0f, 0x28], size: 16, align: true },
  { id: 'movaps xmm/m128,xmm', pre: [], op: [0x0f, 0x29], size: 16, align: true, store: true },
  { id: 'movups xmm,xmm/m128', pre: [], op: [0x0f, 0x10], size: 16, align: false },
  { id: 'movups xmm/m128,xmm', pre: [], op: [0x0f, 0x11], size: 16, align: false, store: true },
  { id: 'movdqa xmm,xmm/m128', pre: [0x66], op: [0x0f, 0x6f], size: 16, align: true },
  { id: 'movdqa xmm/m128,xmm', pre: [0x66], op: [0x0f, 0x7f], size: 16, align: true, store: true },
  { id: 'movdqu xmm,xmm/m128', pre: [0xf3], op: [0x0f, 0x6f], size: 16, align: false },
  { id: 'movdqu xmm/m128,xmm', pre: [0xf3], op: [0x0f, 0x7f], size: 16, align: false, store: true },
  { id: 'movq xmm,r/m64', pre: [0x66], op: [0x0f, 0x6e], w: true, size: 8, align: false, gprRm: true },
  { id: 'movq r/m64,xmm', pre: [0x66], op: [0x0f, 0x7e], w: true, size: 8, align: false, gprRm: true, store: true },
  { id: 'movq xmm,xmm/m64', pre: [0xf3], op: [0x0f, 0x7e], size: 8, align: false },
  { id: 'movq xmm/m64,xmm', pre: [0x66], op: [0x0f, 0xd6], size: 8, align: false, store: true },
  { id: 'movd xmm,r/m32', pre: [0x66], op: [0x0f, 0x6e], size: 4, align: false, gprRm: true },
  { id: 'movd r/m32,xmm', pre: [0x66], op: [0x0f, 0x7e], size: 4, align: false, gprRm: true, store: true },
  { id: 'pxor xmm,xmm/m128', pre: [0x66], op: [0x0f, 0xef], size: 16, align: true },
  { id: 'xorps xmm,xmm/m128', pre: [], op: [0x0f, 0x57], size: 16, align: true },
];

export function sseForms(): Form[] {
  return FORMS.map((s) => ({ id: s.id, group: 'sse', undefined: '', cases: 200, gen: (g: Gen) => {
    const x = g.rng.int(16);
    let rm;
    if (g.rng.bool(0.5)) {
      rm = { reg: s.gprRm ? g.reg(s.size === 8 ? 64 : 32).enc : g.rng.int(16) };
    } else {
      let addr = g.dataAddr(s.size, { align: s.align ? 16 : g.rng.pick([1, 4, 16]) });
      if (s.align && g.rng.bool(0.2)) addr += g.rng.pick([1, 4, 8]);
      if (!s.store && g.rng.bool(0.3)) g.poke(addr, g.rng.pick([0n, -1n, 0x8000_0000_0000_0000n]), Math.min(s.size, 8));
      rm = { mem: g.memAt(addr) };
    }
    g.code = encode({ prefixes: s.pre, rexW: s.w ?? false, opcode: s.op, reg: x, rm });
  } }));
}
