// Differential test: every instruction form in forms.ts runs natively on
// the host CPU (native/harness.c, built with gcc now) and in our core; the
// results must match in every GPR, RIP, XMM register, data/stack window
// byte and every RFLAGS bit the architecture defines for the instruction.
// Masked (undefined) state is listed per form in forms/*.ts and in the
// summary below.  Seed: BOOTPATH_DIFF_SEED (default in rng.ts).
//
//   npx vitest run test/diff                      all forms
//   npx vitest run test/diff -t 'adc r/m64,r64'   one form (all cases still run natively)
//   npx tsx test/diff/repro.ts 'adc r/m64,r64#17' one case, in full

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCase } from './compare.ts';
import { CoreRunner } from './core.ts';
import { allForms } from './forms.ts';
import { FORM_FEATURES } from './forms/common.ts';
import { generateAll, type Case } from './generate.ts';
import { OUT_SIZE } from './layout.ts';
import { buildHarness, type NativeHarness } from './native.ts';
import { disasm, reproLine } from './repro.ts';
import { runSeed } from './rng.ts';

const MIN_CASES = 100_000;
const SHOW_PER_FORM = 3;

interface FormResult { cases: number; failed: number; examples: string[] }

const seed = runSeed();
// The native side needs an x86-64 Linux host (signals, ucontext, MAP_FIXED_NOREPLACE).
const hostOk = process.arch === 'x64' && process.platform === 'linux';
const native: NativeHarness | null = hostOk ? buildHarness() : null;
// Forms whose CPU feature the host lacks are skipped, with the reason.
const hostFeatures = native?.features() ?? new Set<string>();
const lacking = (id: string) => (FORM_FEATURES.get(id)?.split('+') ?? []).filter((f) => !hostFeatures.has(f)).join(', ');
const forms = allForms().filter((f) => !lacking(f.id));
const skipped = allForms().filter((f) => lacking(f.id));
if (skipped.length) {
  const why = new Map<string, number>();
  for (const f of skipped) why.set(lacking(f.id), (why.get(lacking(f.id)) ?? 0) + 1);
  console.log(`diff: skipped ${skipped.length} forms the host cannot run: ${[...why].map(([w, n]) => `${n} for lack of ${w}`).join('; ')}` +
    (why.has('compat32') ? ' (compat32: a far jump into the 32-bit user code segment faults on this host)' : ''));
}
const results = new Map<string, FormResult>();
let cases: Case[] = [];
const timing: Record<string, number> = {};

describe.skipIf(!hostOk)(`differential: core vs host CPU (seed ${seed})`, () => {
  beforeAll(() => {
    let t = performance.now();
    const lap = (k: string) => { const n = performance.now(); timing[k] = Math.round(n - t); t = n; };
    cases = generateAll(seed, forms);
    lap('generate');
    let host: Buffer;
    try {
      lap('gcc');
      host = native!.runRaw(cases.map((c) => c.input));
      lap('native');
    } finally {
      native!.dispose();
    }
    const runner = new CoreRunner();
    const core = Buffer.alloc(cases.length * OUT_SIZE);
    for (let k = 0; k < cases.length; k++) runner.run(cases[k]!, core, k);
    lap('core');
    const jitRunner = new CoreRunner(true);
    const coreJit = Buffer.alloc(cases.length * OUT_SIZE);
    for (let k = 0; k < cases.length; k++) jitRunner.run(cases[k]!, coreJit, k);
    lap('core-jit');
    for (const f of forms) results.set(f.id, { cases: 0, failed: 0, examples: [] });
    cases.forEach((c, k) => {
      const r = results.get(c.form.id)!;
      r.cases++;
      const di = compareCase(c, host, k, core, k);
      const dj = compareCase(c, host, k, coreJit, k);
      if (!di.length && !dj.length) return;
      r.failed++;
      if (r.examples.length < SHOW_PER_FORM) {
        const mode = di.length ? 'interpreter' : 'compiled';
        const d = di.length ? di : dj;
        const crash = (di.length ? runner : jitRunner).crashes.get(c.id);
        r.examples.push(`${c.id} (${mode})  [${Buffer.from(c.input.code).toString('hex')}] ${disasm(c.input.code, c.input.mode ?? 64)}: ${d.join('; ')}${crash ? `; ${crash}` : ''}\n    ${reproLine(c, seed)}`);
      }
    });
    lap('compare');
  }, 600_000);

  afterAll(() => {
    const failing = forms.filter((f) => (results.get(f.id)?.failed ?? 0) > 0);
    const total = cases.length;
    const bad = failing.reduce((n, f) => n + results.get(f.id)!.failed, 0);
    const lines = [
      `diff: ${total} cases, ${forms.length} forms, seed ${seed}; ${bad} mismatching cases in ${failing.length} forms`,
      `diff: time (ms) ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ];
    for (const f of failing) {
      const r = results.get(f.id)!;
      lines.push(`  ${f.id.padEnd(26)} ${String(r.failed).padStart(5)}/${r.cases}  masked: ${f.undefined || '-'}`);
      for (const e of r.examples) lines.push(`    ${e}`);
    }
    console.log(lines.join('\n'));
  });

  it(`runs at least ${MIN_CASES} cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES);
  });

  it('encodes every form as one instruction (iced decodes the same length)', () => {
    const bad: string[] = [];
    const seen = new Set<string>();
    for (const c of cases) {
      if (seen.has(c.form.id)) continue;
      seen.add(c.form.id);
      const text = disasm(c.input.code, c.input.mode ?? 64);
      if (text.includes('≠') || text.startsWith('(bad)')) bad.push(`${c.id}: ${text}`);
    }
    expect(bad).toEqual([]);
  });

  for (const f of skipped) it.skip(`${f.id}: skipped, the host CPU has no ${lacking(f.id)}`, () => {});
  for (const f of forms) {
    it(`${f.id}${f.undefined ? `  [masked: ${f.undefined}]` : ''}`, () => {
      const r = results.get(f.id)!;
      if (r.failed) throw new Error(`${r.failed}/${r.cases} cases differ from the host:\n${r.examples.join('\n')}`);
      expect(r.cases).toBeGreaterThan(0);
    });
  }
});
