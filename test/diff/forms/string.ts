// String instructions movs stos lods cmps scas (b/w/d/q) without a prefix,
// with rep (movs stos lods) and with repe/repne (cmps scas), DF = 0 and 1.
// RSI/RDI point mid-window so up to 8 elements fit in either direction;
// cmps/scas get equal runs (patched) so repe/repne stop at varied places.

import { encode } from '../encode.ts';
import { DATA_WIN, DF } from '../layout.ts';
import type { Form } from './common.ts';

const OPS: [string, number, boolean][] = [['movs', 0xa4, false], ['cmps', 0xa6, true], ['stos', 0xaa, false], ['lods', 0xac, false], ['scas', 0xae, true]];
const SIZES: [string, number][] = [['b', 1], ['w', 2], ['d', 4], ['q', 8]];

export function stringForms(): Form[] {
  const out: Form[] = [];
  for (const [mn, op, cmp] of OPS) {
    for (const [sfx, sz] of SIZES) {
      const prefixes: [string, number[]][] = cmp ? [['', []], ['repe ', [0xf3]], ['repne ', [0xf2]]] : [['', []], ['rep ', [0xf3]]];
      for (const [pname, pre] of prefixes) {
        out.push({ id: `${pname}${mn}${sfx}`, group: 'string', undefined: '', cases: pre.length ? 240 : 120, gen: (g) => {
          g.reserve(0, 1, 6, 7);
          const down = g.rng.bool(0.5);
          g.rflags = down ? g.rflags | DF : g.rflags & ~DF;
          const n = pre.length ? g.rng.pick([0, 1, 2, 3, g.rng.range(0, 8), g.rng.range(0, 32 / sz)]) : g.rng.range(0, 8);
          if (pre.length) g.setReg(1, BigInt(n)); // rep count (full RCX)
          const place = () => DATA_WIN + g.rng.range(88, 160) & ~(g.rng.bool(0.7) ? sz - 1 : 0);
          let si = place(), di = place();
          while (Math.abs(si - di) < 40) { si = place(); di = place(); }
          if (mn !== 'stos' && mn !== 'scas') g.setReg(6, BigInt(si));
          if (mn !== 'lods') g.setReg(7, BigInt(di));
          if (mn === 'stos' || mn === 'scas') g.setReg(0, g.value(64));
          if (cmp) {
            // An equal run of 32 bytes at [rsi]/[rdi] in the direction of travel,
            // with one byte changed at a random element in half the cases.
            const run = g.rng.bytes(32);
            const start = (p: number) => down ? p + sz - 32 : p;
            const dst = Uint8Array.from(run);
            if (g.rng.bool(0.5)) dst[g.rng.int(32)]! ^= 1 << g.rng.int(8);
            if (mn === 'cmps') { g.poke(start(si), run.subarray(0, 16)); g.poke(start(si) + 16, run.subarray(16)); }
            g.poke(start(di), dst.subarray(0, 16)); g.poke(start(di) + 16, dst.subarray(16));
            if (mn === 'scas') {
              // Fill the comparand with the run's repeated first element, so
              // repe/repne see both outcomes.
              let v = 0n;
              for (let i = sz - 1; i >= 0; i--) v = (v << 8n) | BigInt(run[down ? 32 - sz + i : i]!);
              if (g.rng.bool(0.7)) {
                const rep = new Uint8Array(32);
                for (let i = 0; i < 32; i++) rep[i] = run[down ? 32 - sz + (i % sz) : i % sz]!;
                if (g.rng.bool(0.5)) rep[g.rng.int(32)]! ^= 0x10;
                g.patches.length = 0;
                g.poke(start(di), rep.subarray(0, 16)); g.poke(start(di) + 16, rep.subarray(16));
              }
              g.setReg({ gpr: 0, shift: 0, size: 64 }, (g.gpr[0]! & ~((1n << BigInt(8 * sz)) - 1n)) | v);
            }
          }
          g.code = encode({ prefixes: [...pre, ...(sz === 2 ? [0x66] : [])], rexW: sz === 8, opcode: [sz === 1 ? op : op + 1] });
          g.rep = pre.length > 0;
        } });
      }
    }
  }
  return out;
}
