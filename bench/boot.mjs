// One kexec boot as `bootpath boot` runs it (bootKexec: the run with the
// image check), in a process of its own, timed per phase. `bench/run.ts`
// spawns it; it prints one JSON line:
//   npx tsx bench/boot.ts <bzImage> [--vmlinux f | --system-map f] [--max-instructions n] [--jit wasm|js]
// Times: `start` is process start to the first guest instruction (module
// loading, parsing, loading the machine: the fixed cost), phases are wall
// and CPU seconds between the phase observer's calls.
// The code timed is the compiled dist/ (what the `bootpath` command runs; bench/run.ts builds it when
// stale), not the TypeScript sources through tsx's loader, which V8 compiles differently.
import type { RunObserver } from '../src/run/bootRun.ts';
import { distModule } from './dist.ts';

const { bootKexec } = await distModule<typeof import('../src/analysis/checkedBoot.ts')>('src/analysis/checkedBoot.js');
const { DEFAULT_BUDGET, DEFAULT_CMDLINE } = await distModule<typeof import('../src/run/prepare.ts')>('src/run/prepare.js');

const args = process.argv.slice(2);
const kernel = args[0];
if (kernel === undefined) throw new Error('usage: bench/boot.ts <bzImage> [--vmlinux f | --system-map f]');
const opt = (name: string) => { const k = args.indexOf(name); return k < 0 ? undefined : args[k + 1]; };

const now = () => performance.now() / 1000; // seconds since process start (performance.timeOrigin)
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
interface Mark { phase: string; icount: number; wall: number; cpu: number }
const marks: Mark[] = [];
const timer: RunObserver = {
  onPhase(run, phase) { marks.push({ phase, icount: run.machine.cpu.icount, wall: now(), cpu: cpu() }); },
};

let first: Mark | null = null;
const r = bootKexec({
  kernel, vmlinux: opt('--vmlinux'), systemMap: opt('--system-map'), cmdline: DEFAULT_CMDLINE,
  ...(opt('--jit') !== undefined ? { jit: opt('--jit') as 'wasm' | 'js' } : {}),
  maxInstructions: opt('--max-instructions') !== undefined ? Number(opt('--max-instructions')) : DEFAULT_BUDGET,
  // Called once the machine is loaded, just before purgatory's first instruction.
  prepare: () => { first = { phase: 'purgatory', icount: 0, wall: now(), cpu: cpu() }; },
}, { observers: [timer] });
const end: Mark = { phase: 'end', icount: r.instructions, wall: now(), cpu: cpu() };
const all = [first!, ...marks, end];
const phases = all.slice(0, -1).map((m, k) => {
  const n = all[k + 1]!;
  return { phase: m.phase, instructions: n.icount - m.icount, wall: n.wall - m.wall, cpu: n.cpu - m.cpu };
});
console.log(JSON.stringify({
  outcome: r.outcome, instructions: r.instructions, identical: r.imageDiff?.bytesDiffering === 0,
  start: first!.wall, startCpu: first!.cpu, total: end.wall, phases, maxRssMiB: process.resourceUsage().maxRSS / 1024,
}));
