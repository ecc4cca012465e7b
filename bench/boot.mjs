// One kexec boot as `bootpath boot` runs it (bootKexec: the run with the
// image check), in a process of its own, timed per phase. `bench/run.ts`
// spawns it; it prints one JSON line:
//   node bench/boot.mjs <bzImage> [--vmlinux f | --system-map f] [--max-instructions n] [--jit wasm|js]
// Times: `start` is process start to the first guest instruction (module
// loading, parsing, loading the machine: the fixed cost), phases are wall
// and CPU seconds between the phase observer's calls.
// The code timed is the compiled dist/ (what the `bootpath` command runs; bench/run.ts builds it when
// stale), not the TypeScript sources through tsx's loader, which V8 compiles differently. This file is plain
// JavaScript so that plain node runs it, as it runs `bootpath`: under tsx's loader every module load of the
// boot went through its hooks, which added about 0.6 s to `start`.
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
/** @param {string} path a module of dist/ */
const distModule = (path) => import(pathToFileURL(join(repo, 'dist', path)).href);

/** @type {typeof import('../src/analysis/checkedBoot.ts')} */
const { bootKexec } = await distModule('src/analysis/checkedBoot.js');
/** @type {typeof import('../src/run/prepare.ts')} */
const { DEFAULT_BUDGET, DEFAULT_CMDLINE } = await distModule('src/run/prepare.js');

const args = process.argv.slice(2);
const kernel = args[0];
if (kernel === undefined) throw new Error('usage: bench/boot.mjs <bzImage> [--vmlinux f | --system-map f]');
/** @param {string} name */
const opt = (name) => { const k = args.indexOf(name); return k < 0 ? undefined : args[k + 1]; };

const now = () => performance.now() / 1000; // seconds since process start (performance.timeOrigin)
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
/** @type {{ phase: string, icount: number, wall: number, cpu: number }[]} */
const marks = [];
/** @type {import('../src/run/bootRun.ts').RunObserver} */
const timer = {
  onPhase(run, phase) { marks.push({ phase, icount: run.machine.cpu.icount, wall: now(), cpu: cpu() }); },
};

/** @type {{ phase: string, icount: number, wall: number, cpu: number } | null} */
let first = null;
const r = bootKexec({
  kernel, vmlinux: opt('--vmlinux'), systemMap: opt('--system-map'), cmdline: DEFAULT_CMDLINE,
  ...(opt('--jit') !== undefined ? { jit: opt('--jit') } : {}),
  maxInstructions: opt('--max-instructions') !== undefined ? Number(opt('--max-instructions')) : DEFAULT_BUDGET,
  // Called once the machine is loaded, just before purgatory's first instruction.
  prepare: () => { first = { phase: 'purgatory', icount: 0, wall: now(), cpu: cpu() }; },
}, { observers: [timer] });
const end = { phase: 'end', icount: r.instructions, wall: now(), cpu: cpu() };
const all = [first, ...marks, end];
const phases = all.slice(0, -1).map((m, k) => {
  const n = all[k + 1];
  return { phase: m.phase, instructions: n.icount - m.icount, wall: n.wall - m.wall, cpu: n.cpu - m.cpu };
});
console.log(JSON.stringify({
  outcome: r.outcome, instructions: r.instructions, identical: r.imageDiff?.bytesDiffering === 0,
  start: first.wall, startCpu: first.cpu, total: end.wall, phases, maxRssMiB: process.resourceUsage().maxRSS / 1024,
}));
