// Differential test of multi-instruction sequences (test/diff/seq.ts): each
// generated loop runs on the host CPU (native/harness.c built with
// CODE_MAX=1024), in the interpreter, and with each block compiler (JS, and
// the Wasm backend the product uses by default) at a threshold of 2, so every block of the loop is compiled on its second
// execution and then runs compiled for tens of iterations, chained across
// the back edge. Registers, RIP, RFLAGS (all status flags: the body ends
// with them defined) and the data and stack windows must match the host.
//
//   BOOTPATH_DIFF_SEQ=20000 npx vitest run test/diff/seq.test.ts   more sequences (default 3000)
//   BOOTPATH_DIFF_SEED=...                                          another seed
//   npx tsx test/diff/seqrepro.ts <n>                               one sequence in full

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCase } from './compare.ts';
import { OUT_SIZE } from './layout.ts';
import { buildHarness } from './native.ts';
import { runSeed } from './rng.ts';
import { SEQ_CODE_MAX, SeqRunner, generateSeq, seqAsCase, seqDisasm, type SeqCase } from './seq.ts';

const seed = runSeed();
const count = Number(process.env['BOOTPATH_DIFF_SEQ'] || 3000);
const hostOk = process.arch === 'x64' && process.platform === 'linux';
const SHOW = 4;

const MODES = ['interpreter', 'compiled', 'wasm'] as const;
const failures: Record<typeof MODES[number], string[]> = { interpreter: [], compiled: [], wasm: [] };
const failed = { interpreter: 0, compiled: 0, wasm: 0 };
let seqs: SeqCase[] = [];
let insnsRun = 0;
const timing: Record<string, number> = {};

describe.skipIf(!hostOk)(`differential: instruction sequences in loops vs host CPU (seed ${seed}, ${count} sequences)`, () => {
  beforeAll(() => {
    let t = performance.now();
    const lap = (k: string) => { const n = performance.now(); timing[k] = Math.round(n - t); t = n; };
    seqs = Array.from({ length: count }, (_, n) => generateSeq(seed, n));
    lap('generate');
    const native = buildHarness(SEQ_CODE_MAX);
    let host: Buffer;
    try {
      host = native.runRaw(seqs.map((s) => s.input));
    } finally {
      native.dispose();
    }
    lap('native');
    const runners = { interpreter: new SeqRunner(0), compiled: new SeqRunner(2), wasm: new SeqRunner(2, true) };
    for (const mode of MODES) {
      const out = Buffer.alloc(seqs.length * OUT_SIZE);
      const runner = runners[mode];
      for (let k = 0; k < seqs.length; k++) runner.run(seqs[k]!, out, k);
      lap(mode);
      seqs.forEach((s, k) => {
        const d = compareCase(seqAsCase(s), host, k, out, k);
        if (!d.length) return;
        failed[mode]++;
        if (failures[mode].length < SHOW) {
          const crash = runner.crashes.get(s.id);
          failures[mode].push(`${s.id} (${s.iterations} iterations): ${d.join('; ')}${crash ? `; ${crash}` : ''}\n      ${seqDisasm(s.input.code).join('\n      ')}\n      repro: BOOTPATH_DIFF_SEED=${seed} npx tsx test/diff/seqrepro.ts ${s.index}`);
        }
      });
    }
    insnsRun = seqs.reduce((n, s) => n + s.listing.length * s.iterations, 0);
  }, 600_000);

  afterAll(() => {
    console.log(`diff seq: ${seqs.length} sequences (~${insnsRun} body instructions run per mode), seed ${seed}; mismatches: interpreter ${failed.interpreter}, JS compiler ${failed.compiled}, Wasm backend ${failed.wasm}; time (ms) ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });

  it('generates the requested sequences', () => {
    expect(seqs.length).toBe(count);
  });

  for (const mode of MODES) {
    it(`${mode}: every sequence matches the host`, () => {
      if (failed[mode]) throw new Error(`${failed[mode]}/${seqs.length} sequences differ from the host (${mode}):\n${failures[mode].join('\n')}`);
    });
  }
});
