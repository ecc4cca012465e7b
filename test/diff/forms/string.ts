// String instructions movs stos lods cmps scas (b/w/d/q) without a prefix,
// with rep (movs stos lods) and with repe/repne (cmps scas), DF = 0 and 1.
// RSI/RDI point mid-window so up to 8 elements fit in either direction;
// cmps/scas get equal runs (patched) so repe/repne stop at varied places.

import { encode } from '../encode.ts';
import { DATA_BASE, DATA_SIZE, DATA_WIN, DF } from '../layout.ts';
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

/**
 * Long and overlapping rep string operations, and the 67h (32-bit address
 * size) forms. Long: counts up to 4096 elements anywhere in the 64 KiB data
 * region (every byte of it is compared, scratch.ts). Overlap: movs/cmps with
 * source and destination 0..16 bytes apart, before or after each other, in
 * both directions. 67h: RSI/RDI/RCX carry random upper halves the
 * instruction must ignore (ESI/EDI/ECX), and it writes back 32-bit values.
 */
export function longStringForms(): Form[] {
  const out: Form[] = [];
  const LO = DATA_BASE + 64, HI = DATA_BASE + DATA_SIZE - 64;
  for (const [mn, op, cmp] of OPS) {
    for (const [sfx, sz] of SIZES) {
      for (const kind of ['long', 'overlap', 'a32'] as const) {
        if (kind === 'overlap' && mn !== 'movs' && mn !== 'cmps') continue;
        const pre = cmp ? [0xf3, 0xf2] : [0xf3];
        for (const p of pre) {
          const pname = cmp ? (p === 0xf3 ? 'repe ' : 'repne ') : 'rep ';
          out.push({ id: `${pname}${mn}${sfx} ${kind === 'a32' ? '(67h)' : kind}`, group: 'string', undefined: '', cases: kind === 'overlap' ? 17 * 8 : 120, gen: (g) => {
            g.reserve(0, 1, 6, 7);
            const down = g.rng.bool(0.5);
            g.rflags = down ? g.rflags | DF : g.rflags & ~DF;
            const r = g.rng;
            const n = kind === 'a32' ? r.pick([0, 1, 2, r.range(0, 8), r.range(0, 64)])
              : kind === 'overlap' ? r.pick([1, 2, 3, 17, r.range(1, 64), r.range(1, 1024)])
              : r.pick([4095, 4096, 4097 & 0xfff, r.range(0, 4096), r.range(256, 4096), r.range(0, 64)]);
            const span = Math.max(n, 1) * sz;
            // A start such that `span` bytes in the direction of travel stay inside [LO, HI).
            const start = (extra: number) => {
              const lo = down ? LO + span - sz + extra : LO + extra, hi = down ? HI - extra : HI - span - extra;
              const a = r.range(lo, Math.max(lo, hi));
              return r.bool(0.7) ? a - (a % sz) : a;
            };
            let si: number, di: number;
            if (kind === 'overlap') {
              const d = g.index % 17;                    // every distance 0..16 in turn
              si = start(17);
              di = r.bool(0.5) ? si + d : si - d;        // destination after or before the source
            } else {
              si = start(0); di = start(0);
            }
            const hiBits = () => kind === 'a32' ? r.u64() & ~0xffffffffn : 0n;
            g.setReg(1, BigInt(n) | hiBits());
            if (mn !== 'stos' && mn !== 'scas') g.setReg(6, BigInt(si) | hiBits());
            if (mn !== 'lods') g.setReg(7, BigInt(di) | hiBits());
            if (mn === 'stos' || mn === 'scas') g.setReg(0, g.value(64));
            g.code = encode({ prefixes: [p, ...(sz === 2 ? [0x66] : []), ...(kind === 'a32' ? [0x67] : [])], rexW: sz === 8, opcode: [sz === 1 ? op : op + 1] });
            g.rep = true;
          } });
        }
      }
    }
  }
  return out;
}
