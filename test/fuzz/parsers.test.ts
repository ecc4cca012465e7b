// Property-based fuzzing of every parser and loader (fast-check, fixed
// seeds): valid inputs with bytes changed, headers lying, files cut short.
// Every input ends in a result or an error that names the input and what is
// wrong (InputError and its kin) — never another exception, a hang, or
// memory that grows with a header's claims. `FUZZ_RUNS` raises the count
// (scripts/heavy-fuzz.sh runs 10,000 per parser).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseBzImage } from '../../src/boot/bzimage.ts';
import { decompressPayload } from '../../src/boot/payload.ts';
import { readVmlinux } from '../../src/boot/vmlinux.ts';
import { parseElfRel } from '../../src/boot/kexec/elfRel.ts';
import { parseSystemMap } from '../../src/boot/systemMap.ts';
import { parseScenario } from '../../src/xen/scenario.ts';
import { resolveScenario } from '../../src/xen/scenarioResolve.ts';
import { DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import { loadMultibootImage, MultibootError } from '../../src/boot/multiboot.ts';
import { GuestRam } from '../../src/machine/ram.ts';
import { BUNDLED_PURGATORY, planKexecLoad } from '../../src/boot/kexec/index.ts';
import { parseOptions } from '../../src/cli/options.ts';
import { InputError } from '../../src/errors.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { StubHarness } from '../debug/stubHarness.ts';
import { FakeTarget } from '../debug/fakeTarget.ts';
import { build, buildDir } from '../system/firmware.ts';
import { tinyBzImagePath, tinyFile } from '../boot/tinyKernel.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const opts = (seed: number, runs = RUNS) => ({ seed, numRuns: runs, endOnFailure: true });

/** Byte edits: positions biased to `hot` (headers) half of the time, and an optional cut. */
function mutations(size: number, hot: [number, number][] = [[0, Math.min(size, 512)]]) {
  const pos = fc.oneof(fc.nat({ max: size - 1 }), ...hot.map(([a, b]) => fc.integer({ min: a, max: Math.max(a, Math.min(size, b) - 1) })));
  return fc.record({
    edits: fc.array(fc.record({ at: pos, value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0xff, 0x7f, 0x80)) }), { minLength: 1, maxLength: 8 }),
    cut: fc.option(fc.nat({ max: size }), { freq: 4 }),
  });
}
function apply(base: Uint8Array, m: { edits: { at: number; value: number }[]; cut: number | null }): Uint8Array {
  const out = base.slice(0, m.cut ?? base.length);
  for (const e of m.edits) if (e.at < out.length) out[e.at] = e.value;
  return out;
}
/** Calls f; only the clear errors of an input count as an answer. */
function answers(f: () => unknown, ...ok: (abstract new (...a: never[]) => Error)[]): void {
  try { f(); } catch (e) {
    if ([InputError, ...ok].some((k) => e instanceof k)) { expect((e as Error).message.length).toBeGreaterThan(5); return; }
    throw e;
  }
}

describe('parsers under fuzzing (fast-check, fixed seeds)', () => {
  it('bzImage: setup header and payload, gzip; and kexec\'s load plan of it (init_size, alignment, entry flags lying)', () => {
    const base = new Uint8Array(readFileSync(tinyBzImagePath('gzip')));
    fc.assert(fc.property(mutations(base.length, [[0x1f1, 0x280], [0, 0x400]]), fc.constantFrom<64 | 32>(64, 32), (m, entry) => {
      const k = apply(base, m);
      answers(() => decompressPayload(parseBzImage(k, 'fuzz.bzImage')));
      answers(() => planKexecLoad({ kernel: k, kernelName: 'fuzz.bzImage', ramSize: 512 << 20, entry }));
    }), opts(1, Math.ceil(RUNS / 3)));
  });

  it('bzImage: every compression, the payload\'s first bytes and its length', () => {
    for (const [k, c] of (['bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'] as const).entries()) {
      const base = new Uint8Array(readFileSync(tinyBzImagePath(c)));
      const bz = parseBzImage(base, c);
      const start = bz.payloadFileOffset;
      fc.assert(fc.property(mutations(base.length, [[start, start + 64], [0x240, 0x260]]), (m) => {
        answers(() => decompressPayload(parseBzImage(apply(base, m), `fuzz.${c}`)));
      }), opts(10 + k, Math.max(4, Math.ceil(RUNS / 25))));
    }
  });

  it('vmlinux ELF: headers, program and section headers', () => {
    const base = new Uint8Array(readFileSync(tinyFile('vmlinux')));
    const dv = new DataView(base.buffer, base.byteOffset);
    const shoff = Number(dv.getBigUint64(0x28, true));
    fc.assert(fc.property(mutations(base.length, [[0, 0x200], [shoff, shoff + 64 * 40]]), (m) => {
      answers(() => readVmlinux(apply(base, m), 'fuzz-vmlinux'));
    }), opts(2, Math.ceil(RUNS / 3)));
  });

  it('purgatory ELF relocatable', () => {
    const base = new Uint8Array(readFileSync(BUNDLED_PURGATORY));
    const dv = new DataView(base.buffer, base.byteOffset);
    const shoff = Number(dv.getBigUint64(0x28, true));
    fc.assert(fc.property(mutations(base.length, [[0, 64], [shoff, base.length]]), (m) => {
      answers(() => parseElfRel(apply(base, m), 'fuzz-purgatory.o'));
    }), opts(3));
  });

  it('System.map', () => {
    const text = readFileSync(tinyFile('System.map'), 'latin1').split('\n').slice(0, 400).join('\n');
    const line = fc.oneof(fc.string(), fc.constantFrom('ffffffff81000000 T startup_64', 'zz T x', 'ffffffff81000000', '', '0 0 0 0', 'ffffffffffffffffffff T big'));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: 399 }), line), { maxLength: 6 }), (edits) => {
      const lines = text.split('\n');
      for (const [at, l] of edits) lines[at] = l;
      answers(() => parseSystemMap(lines.join('\n'), 'fuzz.map'));
    }), opts(4));
  });

  it('scenario JSON: values of the wrong type or range anywhere, broken text', () => {
    const base = JSON.parse(readFileSync(DEFAULT_SCENARIO_PATH, 'utf8')) as Record<string, unknown>;
    const paths: string[][] = [];
    const walk = (o: unknown, p: string[]) => { if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) { paths.push([...p, k]); walk(v, [...p, k]); } };
    walk(base, []);
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }), fc.option(fc.nat({ max: 4000 })), (edits, cut) => {
      const spec = structuredClone(base);
      for (const [p, v] of edits) {
        let o = spec as Record<string, unknown>;
        for (const k of p.slice(0, -1)) { const n = o[k]; if (!n || typeof n !== 'object') return; o = n as Record<string, unknown>; }
        o[p[p.length - 1]!] = v;
      }
      let text = JSON.stringify(spec);
      if (cut !== null) text = text.slice(0, cut);
      answers(() => resolveScenario(parseScenario(text, 'fuzz.json')));
    }), opts(5, Math.ceil(RUNS / 2)));
  });

  it('multiboot ELF', async () => {
    const base = new Uint8Array(readFileSync(await build('hello', buildDir())));
    fc.assert(fc.property(mutations(base.length, [[0, 0x100]]), (m) => {
      answers(() => loadMultibootImage(new GuestRam(64 << 20), apply(base, m)), MultibootError);
    }), opts(6));
  });

  it('CLI options', () => {
    const token = fc.oneof(fc.constantFrom('--kernel', '--entry', '--until', '--ram', '--gdb', '--json', '--seed', '-x', '--', '--entry=', '64', '32'), fc.string({ maxLength: 12 }));
    fc.assert(fc.property(fc.array(token, { maxLength: 8 }), (args) => {
      answers(() => parseOptions(args, { kernel: { type: 'string' }, entry: { type: 'string' }, until: { type: 'string' }, ram: { type: 'string' }, gdb: { type: 'string' }, json: { type: 'boolean' }, seed: { type: 'string' } }, 'usage'), UsageError);
    }), opts(7));
  });

  it('gdb packets: any bytes on the wire get acks and replies, never an exception', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('$g#67', '$m0,ffffffffffff#00', '$Z0,zz,1#00', '$qRcmd,zz#00', '\x03', '$#00', '$vCont;x#00')), { maxLength: 6 }), async (chunks) => {
      const h = new StubHarness(new FakeTarget());
      for (const c of chunks) h.feed(c);
      h.send('qRcmd,' + Buffer.from('help').toString('hex'));
      await h.idle();
      expect(() => h.take()).not.toThrow();
    }), opts(8, Math.ceil(RUNS / 2)));
  });
});
