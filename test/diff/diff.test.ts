// Differential test: every instruction form in forms.ts runs natively on
// the host CPU (native/harness.c, built with gcc now) and in our core (the
// interpreter, the JS block compiler and the Wasm backend). The 32-bit twins run on the host CPU
// too where it runs 32-bit code; where it refuses, on the next-best oracle,
// QEMU's TCG running the harness's i386 build (qemu-i386), or else are
// skipped with the reason. The results must match in every
// GPR, RIP, XMM register, every byte of the scratch memory and every
// RFLAGS bit, except state a form masks as undefined (listed per form in
// forms/*.ts, with the manual that leaves it undefined, and in the summary
// below). Cases run in chunks so memory stays bounded at any scale.
//
//   npx vitest run test/diff                      all forms
//   npx vitest run test/diff -t 'adc r/m64,r64'   one form (all cases still run)
//   npx tsx test/diff/repro.ts 'adc r/m64,r64#17' one case, in full
//   BOOTPATH_DIFF_SEED=<n>        another seed (default in rng.ts)
//   BOOTPATH_DIFF_SCALE=<x>       x times the cases per form (default 1; scripts/heavy-diff.sh: 6)
//   BOOTPATH_DIFF_MIN_CASES=<n>   fail unless at least n cases ran (the heavy script's floor)
//   BOOTPATH_DIFF_WASM_EVERY=<n>  every nth case through the Wasm backend (default 3; the heavy script: 1)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCase } from './compare.ts';
import { CoreRunner } from './core.ts';
import { allForms } from './forms.ts';
import { FORM_FEATURES } from './forms/common.ts';
import { generateCase, type Case } from './generate.ts';
import { OUT_SIZE } from './layout.ts';
import { ORACLE_LABEL, buildHarness, qemuMissing, type NativeHarness } from './native.ts';
import type { Form } from './forms/common.ts';
import { disasm, reproLine } from './repro.ts';
import { runSeed } from './rng.ts';

/**
 * Cases the forms generate at scale 1 — all of them, the 32-bit twins
 * included (forms32.ts). The test requires exactly this many, run plus
 * skipped for a host feature, so no form or case can vanish unnoticed:
 * adding forms means updating this number.
 */
const EXPECTED_CASES = 307_884;
/** At least this many must run in `npm test`, on any host that has the BMI/ADX/MOVBE features (32-bit twins or not). */
const MIN_RUN = 250_000;
const SHOW_PER_FORM = 3;
const CHUNK = 40_000;

interface FormResult { cases: number; failed: number; examples: string[] }

const seed = runSeed();
// The native side needs an x86-64 Linux host (signals, ucontext, MAP_FIXED_NOREPLACE).
const hostOk = process.arch === 'x64' && process.platform === 'linux';
const native: NativeHarness | null = hostOk ? buildHarness() : null;
const hostFeatures = native?.features() ?? new Set<string>();
// The 32-bit twins' oracle: the host CPU if it runs 32-bit code, else QEMU if it works here, else none (said why).
let qemuWhyNot = hostOk && !hostFeatures.has('compat32') ? qemuMissing() : 'not needed';
let native32: NativeHarness | null = !hostOk ? null : hostFeatures.has('compat32') ? native : null;
let features32 = hostFeatures;
if (hostOk && !native32 && !qemuWhyNot) {
  try {
    native32 = buildHarness(16, 'qemu-i386');
    features32 = native32.features();
    if (!features32.has('compat32')) throw new Error('its 32-bit probe case failed');
  } catch (e) {
    native32?.dispose();
    native32 = null;
    qemuWhyNot = `QEMU does not work here: ${e instanceof Error ? e.message : String(e)}`;
  }
}
const is32 = (f: Form) => f.mode === 32;
// Forms whose CPU feature their oracle lacks are skipped, with the reason.
const lacking = (f: Form) => is32(f) && !native32 ? 'compat32'
  : (FORM_FEATURES.get(f.id)?.split('+') ?? []).filter((x) => !(is32(f) ? features32 : hostFeatures).has(x)).join(', ');
const forms = allForms().filter((f) => !lacking(f));
const skipped = allForms().filter((f) => lacking(f));
const forms64 = forms.filter((f) => !is32(f)), forms32 = forms.filter(is32);
const label32 = native32 ? ORACLE_LABEL[native32.oracle] : 'none';
if (skipped.length) {
  const why = new Map<string, number>();
  for (const f of skipped) why.set(lacking(f), (why.get(lacking(f)) ?? 0) + 1);
  console.log(`diff: skipped ${skipped.length} forms their oracle cannot run: ${[...why].map(([w, n]) => `${n} for lack of ${w}`).join('; ')}` +
    (why.has('compat32') ? ` (compat32: the host refuses 32-bit code, and QEMU cannot stand in: ${qemuWhyNot})` : ''));
}
console.log(`diff: 32-bit twins: ${label32}`);
const scale = Number(process.env['BOOTPATH_DIFF_SCALE'] || 1);
const minCases = Number(process.env['BOOTPATH_DIFF_MIN_CASES'] || 0);
const results = new Map<string, FormResult>();
const oracleCases: Record<string, number> = {};
const badEncodings: string[] = [];
let total = 0;
/** One case in this many goes through the Wasm backend (BOOTPATH_DIFF_WASM_EVERY; 1: all). */
const WASM_EVERY = Math.max(1, Number(process.env['BOOTPATH_DIFF_WASM_EVERY'] || 3));
/** Cases the Wasm backend ran with the instruction emitted inline. */
let wasmCases = 0;
const perForm = (f: { cases: number }) => Math.max(1, Math.round(f.cases * scale));
let skippedCases = skipped.reduce((n, f) => n + perForm(f), 0);
/** Cases the QEMU oracle died on (skipped, each listed), and cases it skips for a known inaccuracy (qemu.ts), by reason. */
const died: string[] = [];
const quirkSkips = new Map<string, string[]>();
const timing: Record<string, number> = {};

describe.skipIf(!hostOk)(`differential: core vs host CPU (seed ${seed}, scale ${scale})`, () => {
  beforeAll(() => {
    const lap = (k: string, t: number) => { timing[k] = (timing[k] ?? 0) + Math.round(performance.now() - t); };
    const runner = new CoreRunner();
    const jitRunner = new CoreRunner(true);
    const wasmRunner = new CoreRunner(true, true);
    for (const f of forms) results.set(f.id, { cases: 0, failed: 0, examples: [] });
    try {
      for (const [set, oracle] of [[forms64, native!], [forms32, native32]] as const) if (oracle) runSet(set, oracle);
    } finally {
      native!.dispose();
      if (native32 && native32 !== native) native32.dispose();
    }

    // Chunks of whole forms' cases: generate, run on the oracle, in the interpreter, compiled; compare; drop.
    function runSet(forms: Form[], oracle: NativeHarness): void {
      const native = oracle, key = ORACLE_LABEL[oracle.oracle].split(' (')[0]!;
      for (let fi = 0; fi < forms.length;) {
        let t = performance.now();
        const cases: Case[] = [];
        for (; fi < forms.length && cases.length < CHUNK; fi++) {
          const f = forms[fi]!;
          const first = cases.length;
          for (let n = 0; n < perForm(f); n++) cases.push(generateCase(seed, f, n));
          // The form's first valid case (some are #UD on purpose) must decode as one instruction of its length.
          // (lock cmp has none: every case is #UD.)
          const c = cases.slice(first).find((x) => !x.ud);
          const text = c ? disasm(c.input.code, c.input.mode ?? 64) : '';
          if (text.includes('≠') || text.startsWith('(bad)')) badEncodings.push(`${f.id}: ${text}`);
        }
        lap('generate', t); t = performance.now();
        // Cases the oracle does not run (QEMU's known failures, qemu.ts); at[k]: case k's result in `host`, or -1.
        const skipWhy = cases.map((c) => native.skip(c));
        const at: number[] = [];
        let ran = 0;
        for (const why of skipWhy) at.push(why ? -1 : ran++);
        const host = native.runRaw(cases.filter((_, k) => !skipWhy[k]).map((c) => c.input));
        lap(native.oracle === 'host' ? 'native' : native.oracle, t); t = performance.now();
        const core = Buffer.alloc(cases.length * OUT_SIZE);
        for (let k = 0; k < cases.length; k++) runner.run(cases[k]!, core, k);
        lap('core', t); t = performance.now();
        const coreJit = Buffer.alloc(cases.length * OUT_SIZE);
        for (let k = 0; k < cases.length; k++) jitRunner.run(cases[k]!, coreJit, k);
        lap('core-jit', t); t = performance.now();
        // The Wasm backend where it emits the instruction itself (elsewhere its handler call is the JS compiler's),
        // one case in WASM_EVERY (a Wasm module per case costs ~2 ms; the sequences in seq.test.ts run it throughout).
        const coreWasm = Buffer.from(coreJit);
        for (let k = 0; k < cases.length; k++) {
          if ((k + fi) % WASM_EVERY !== 0 || !wasmRunner.wasmInline(cases[k]!)) continue;
          wasmRunner.run(cases[k]!, coreWasm, k); wasmCases++;
        }
        lap('core-wasm', t); t = performance.now();
        let notCompared = 0;
        cases.forEach((c, k) => {
          const r = results.get(c.form.id)!;
          const why = skipWhy[k], hk = at[k]!;
          if (why) {
            quirkSkips.set(why, [...quirkSkips.get(why) ?? [], c.id]);
            notCompared++;
            return;
          }
          const how = native.died.get(hk);
          if (how) {
            died.push(`${c.id}  [${Buffer.from(c.input.code).toString('hex')}] ${disasm(c.input.code, 32)}: ${how}`);
            notCompared++;
            return;
          }
          r.cases++;
          const cc = native.compared(c, host, hk);
          const di = compareCase(cc, host, hk, core, k);
          const dj = compareCase(cc, host, hk, coreJit, k);
          const dw = compareCase(cc, host, hk, coreWasm, k);
          if (!di.length && !dj.length && !dw.length) return;
          r.failed++;
          if (r.examples.length < SHOW_PER_FORM) {
            const mode = di.length ? 'interpreter' : dj.length ? 'JS compiler' : 'Wasm backend';
            const d = di.length ? di : dj.length ? dj : dw;
            const crash = (di.length ? runner : dj.length ? jitRunner : wasmRunner).crashes.get(c.id);
            r.examples.push(`${c.id} (${mode})  [${Buffer.from(c.input.code).toString('hex')}] ${disasm(c.input.code, c.input.mode ?? 64)}: ${d.join('; ')}${crash ? `; ${crash}` : ''}\n    ${reproLine(c, seed)}`);
          }
        });
        total += cases.length - notCompared;
        skippedCases += notCompared;
        oracleCases[key] = (oracleCases[key] ?? 0) + cases.length - notCompared;
        lap('compare', t);
      }
    }
  }, 3_600_000);

  afterAll(() => {
    const failing = forms.filter((f) => (results.get(f.id)?.failed ?? 0) > 0);
    const bad = failing.reduce((n, f) => n + results.get(f.id)!.failed, 0);
    const lines = [
      `diff: ${total} cases run (${skippedCases} skipped), ${forms.length} forms, seed ${seed}, scale ${scale}; ${bad} mismatching cases in ${failing.length} forms; ${wasmCases} cases through the Wasm backend's inline forms`,
      `diff: cases by oracle: ${Object.entries(oracleCases).map(([k, v]) => `${k} ${v}`).join(', ')}; 32-bit twins: ${label32}`,
      `diff: time (ms) ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ];
    if (died.length) lines.push(`diff: QEMU died on ${died.length} cases, skipped:`, ...died.map((d) => `  ${d}`));
    for (const [why, ids] of quirkSkips) lines.push(`diff: skipped ${ids.length} cases, ${why} (qemu.ts): ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`);
    for (const f of failing) {
      const r = results.get(f.id)!;
      lines.push(`  ${f.id.padEnd(26)} ${String(r.failed).padStart(5)}/${r.cases}  masked: ${f.undefined || '-'}`);
      for (const e of r.examples) lines.push(`    ${e}`);
    }
    console.log(lines.join('\n'));
  });

  it(`generates exactly the expected cases (${EXPECTED_CASES} at scale 1) and runs at least ${MIN_RUN}`, () => {
    if (scale === 1) {
      expect(total + skippedCases).toBe(EXPECTED_CASES);
      // Without any 32-bit oracle MIN_RUN still run; hosts without BMI/ADX/MOVBE run fewer.
      if (skipped.every((f) => lacking(f) === 'compat32')) expect(total).toBeGreaterThanOrEqual(MIN_RUN);
    }
    expect(total).toBeGreaterThanOrEqual(minCases);
  });

  it('encodes every form as one instruction (iced decodes the same length)', () => {
    expect(badEncodings).toEqual([]);
  });

  const formTests = (set: Form[], oracle: string) => {
    for (const f of set) {
      it(`${f.id}${f.undefined ? `  [masked: ${f.undefined}]` : ''}`, () => {
        const r = results.get(f.id)!;
        if (r.failed) throw new Error(`${r.failed}/${r.cases} cases differ from the ${oracle}:\n${r.examples.join('\n')}`);
        expect(r.cases).toBeGreaterThan(0);
      });
    }
  };
  for (const f of skipped) {
    it.skip(`${f.id}: skipped, ${!is32(f) ? `the host has no ${lacking(f)}` : native32 ? `the 32-bit oracle (${label32}) has no ${lacking(f)}` : `no 32-bit oracle (${qemuWhyNot})`}`, () => {});
  }
  describe('64-bit forms: host CPU', () => formTests(forms64, 'host CPU'));
  if (forms32.length) describe(`32-bit twins: ${label32}`, () => formTests(forms32, label32));
});
