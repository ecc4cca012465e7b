// Reverse execution, timed: forward across 100M instructions with history
// on, then reverse-continue back across them to a breakpoint, then one
// reverse-stepi. Prints wall times and the ratio (the stub's promise:
// reverse-continue at most about twice the forward run).
import { BootRun } from '../src/run/bootRun.ts';
import { BUNDLED_KERNEL } from '../src/boot/bundled.ts';

export {};
const SPAN = Number(process.env.SPAN ?? 100_000_000);
const run = new BootRun({ kernel: BUNDLED_KERNEL, entry: 32, ramSize: 512 << 20, until: null });
run.enableHistory(20_000_000);
const bp = BigInt(run.plan.purgatory.symbols.purgatory!);
run.addBreakpoint(bp);
const s = run.advance(Infinity, false);
if (s.kind !== 'breakpoint') throw new Error(`no breakpoint hit: ${JSON.stringify(s)}`);
const hitAt = run.icount;
let t = performance.now();
run.advance(hitAt + SPAN, true);
const forward = (performance.now() - t) / 1000;
t = performance.now();
const back = run.reverseToLastHit();
const reverse = (performance.now() - t) / 1000;
if (back?.kind !== 'breakpoint' || run.icount !== hitAt) throw new Error(`reverse-continue landed at ${run.icount}, not ${hitAt}`);
run.goto(hitAt + SPAN);
t = performance.now();
run.goto(run.icount - 1);
const stepBack = (performance.now() - t) / 1000;
const st = run.historyStats!;
console.log(`forward ${(SPAN / 1e6).toFixed(0)}M instructions with history: ${forward.toFixed(2)} s`);
console.log(`reverse-continue back across them to the breakpoint: ${reverse.toFixed(2)} s (${(reverse / forward).toFixed(2)}× forward)`);
console.log(`reverse-stepi at the end: ${stepBack.toFixed(2)} s`);
console.log(`history: ${st.count} checkpoints, ${(st.bytes / 1048576).toFixed(1)} MiB`);

// The 2012 repro: reverse-stepi at the triple fault.
{
  const { loadScenario } = await import('../src/xen/scenario.ts');
  const { resolveScenario } = await import('../src/xen/scenarioResolve.ts');
  const { DEFAULT_SCENARIO_PATH } = await import('../src/xen/index.ts');
  const { startScenario } = await import('../src/run/scenarioRun.ts');
  const boot = startScenario(resolveScenario(loadScenario(DEFAULT_SCENARIO_PATH)), { until: null });
  boot.run.enableHistory(20_000_000);
  let t0 = performance.now();
  while (boot.run.advance(Infinity, false).kind !== 'end') { /* to the crash */ }
  const toCrash = (performance.now() - t0) / 1000;
  const at = boot.run.icount;
  t0 = performance.now();
  boot.run.goto(at - 1);
  const back = (performance.now() - t0) / 1000;
  console.log(`repro: ${boot.run.outcome === null ? 'stepped back from' : '?'} the crash at instruction ${at} (reached in ${toCrash.toFixed(2)} s with history): reverse-stepi ${back.toFixed(2)} s`);
}
