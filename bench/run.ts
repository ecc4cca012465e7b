// `npm run bench`: runs CPU-bound guest code through the core and prints
// MIPS (instructions retired per second of wall time) and wall time; then
// whole kexec boots (bench/boot.mjs, each in its own process) of the bundled
// tiny gzip and xz kernels and of Debian's stock kernel when it is cached,
// with QEMU TCG's `-kernel` time to "Linux version" in the same run and the
// ratio, MIPS per phase, the fixed cost and peak memory.
// Boots run with the default block compiler (--jit wasm); BENCH_JIT=js times the JS one.
//   BENCH_RUNS=n (3)  BENCH_WARMUP=n (1: untimed core runs first)  BENCH_ONLY=core|boot  BENCH_KERNELS=gzip,xz,debian  BENCH_JIT=wasm|js
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkload, LOAD_ADDRESS } from './build.ts';
import { distModule, ensureDist } from './dist.ts';

// Timed: the compiled dist/ that the `bootpath` command runs (built first when a source is newer).
ensureDist();
const { Cpu, FlatMemory, Stop, DEFAULT_COMPILE_THRESHOLD } = await distModule<typeof import('../emulator/index.ts')>('emulator/index.js');
const { WasmMachine } = await distModule<typeof import('../emulator/jit/wasm/machine.ts')>('emulator/jit/wasm/machine.js');

function runWorkload(image: Uint8Array, jitThreshold: number, jit: 'wasm' | 'js'): { insns: number; seconds: number; cpuSeconds: number; result: bigint } {
  const wasm = jit === 'wasm' ? new WasmMachine(16 << 20) : null;
  const mem = wasm !== null ? wasm.flat : new FlatMemory(16 << 20);
  mem.write(LOAD_ADDRESS, image);
  const cpu = wasm !== null ? new Cpu({ memory: mem, wasm }) : new Cpu({ memory: mem });
  cpu.resetFlat64();
  cpu.jitThreshold = jitThreshold;
  cpu.setRip(BigInt(LOAD_ADDRESS));
  cpu.setReg(4, 0xf00000n);
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  const stop = cpu.run(5_000_000_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuSeconds = process.cpuUsage(u0).user / 1e6;
  if (stop !== Stop.Halt) throw new Error(`workload did not finish: stop ${stop} ${cpu.lastFault?.message ?? ''} at rip 0x${cpu.getRip().toString(16)}`);
  return { insns: cpu.icount, seconds, cpuSeconds, result: cpu.getReg(0) };
}

const runs = Number(process.env.BENCH_RUNS ?? 3);
const warmups = Number(process.env.BENCH_WARMUP ?? 1);
/** The block compiler boots use: BENCH_JIT, else bootpath's default. */
function jitOf(): 'wasm' | 'js' {
  const j = process.env.BENCH_JIT ?? 'wasm';
  if (j !== 'wasm' && j !== 'js') throw new Error(`BENCH_JIT must be wasm or js, not ${j}`);
  return j;
}

function benchCore(): void {
const image = buildWorkload();
console.log(`workload: freestanding C (sort, LZ decode, adler32), ${image.length} bytes at 0x${LOAD_ADDRESS.toString(16)}`);
// Three configurations: the interpreter alone, hot blocks compiled to JavaScript (--jit js), and to WebAssembly (the default).
const modes: [string, number, 'wasm' | 'js'][] = [['interpreter only', 0, 'js'], ['with the JS block compiler', DEFAULT_COMPILE_THRESHOLD, 'js'], ['with the Wasm backend (default)', DEFAULT_COMPILE_THRESHOLD, 'wasm']];
if (process.env.BOOTPATH_JIT_THRESHOLD !== undefined) modes.splice(0, 3, [`jit threshold ${process.env.BOOTPATH_JIT_THRESHOLD}`, Number(process.env.BOOTPATH_JIT_THRESHOLD), jitOf()]);
for (const [name, threshold, jit] of modes) {
  // The first run in a process also pays for V8 compiling the core itself (the whole workload is about a second):
  // it is shown but not counted, so the median is the sustained rate a boot of billions of instructions sees.
  for (let w = 0; w < warmups; w++) {
    const x = runWorkload(image, threshold, jit);
    console.log(`${name}, warm-up (not counted): ${(x.insns / x.seconds / 1e6).toFixed(1)} MIPS (${(x.insns / x.cpuSeconds / 1e6).toFixed(1)} per CPU-second)`);
  }
  const mips: number[] = [];
  for (let r = 0; r < runs; r++) {
    const x = runWorkload(image, threshold, jit);
    mips.push(x.insns / x.seconds / 1e6);
    console.log(`${name}, run ${r + 1}: ${(x.insns / 1e6).toFixed(1)} M instructions in ${x.seconds.toFixed(3)} s = ${(x.insns / x.seconds / 1e6).toFixed(1)} MIPS (${(x.insns / x.cpuSeconds / 1e6).toFixed(1)} per CPU-second; result 0x${x.result.toString(16)})`);
  }
  mips.sort((a, b) => a - b);
  console.log(`${name}: median ${mips[Math.floor(mips.length / 2)]!.toFixed(1)} MIPS over ${runs} runs`);
}
}

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface BootTimes {
  outcome: string; instructions: number; identical: boolean; start: number; total: number; maxRssMiB: number;
  phases: { phase: string; instructions: number; wall: number; cpu: number }[];
}

/** Seconds from spawning QEMU to its first "Linux version" line, or null when QEMU is missing or fails. */
function qemuSeconds(kernel: string): number | null {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', [join(repo, 'bench/qemu-linux-version.sh'), kernel], { stdio: 'ignore', timeout: 300_000 });
  if (r.status !== 0) return null;
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function benchBoots(): void {
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
  if (!qemu) console.log('QEMU (qemu-system-x86_64) is not installed: boots are timed without the ratio');
  const debian = join(process.env.BOOTPATH_CACHE ?? join(repo, '.cache'), 'debian-stock', 'vmlinuz');
  const all: [string, string, string[]][] = [
    ['gzip', join(repo, 'kernels/tiny-6.1/bzImage.gzip'), []],
    ['xz', join(repo, 'kernels/tiny-6.1/bzImage.xz'), []],
    ['debian', debian, ['--max-instructions', '30000000000']],
  ];
  const want = (process.env.BENCH_KERNELS ?? 'gzip,xz,debian').split(',');
  console.log(`boots with --jit ${jitOf()}`);
  for (const [name, kernel, extra] of all) {
    if (!want.includes(name)) continue;
    if (!existsSync(kernel)) { console.log(`${name}: ${kernel} not there (kernels/fetch-debian.sh fetches it): skipped`); continue; }
    const ours: number[] = [], theirs: number[] = [];
    let last: BootTimes | null = null;
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      const p = spawnSync(process.execPath, [join(repo, 'bench/boot.mjs'), kernel, '--jit', jitOf(), ...extra], { encoding: 'utf8', cwd: repo, maxBuffer: 1 << 24 });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const line = p.stdout.trim().split('\n').pop() ?? '';
      if (p.status !== 0 || !line.startsWith('{')) throw new Error(`bench/boot.mjs ${kernel} failed: ${p.stderr}`);
      last = JSON.parse(line) as BootTimes;
      ours.push(wall);
      const q = qemu ? qemuSeconds(kernel) : null;
      if (q !== null) theirs.push(q);
      console.log(`${name}, run ${r + 1}: ${last.outcome} after ${(last.instructions / 1e9).toFixed(3)} G instructions, image ${last.identical ? 'identical' : 'DIFFERS'}; ` +
        `whole process ${wall.toFixed(2)} s (first guest instruction at ${last.start.toFixed(2)} s), peak ${last.maxRssMiB.toFixed(0)} MiB` +
        (q !== null ? `; QEMU ${q.toFixed(2)} s` : ''));
      console.log('    ' + last.phases.filter((f) => f.instructions > 0).map((f) =>
        `${f.phase} ${(f.instructions / 1e6).toFixed(1)} M in ${f.wall.toFixed(2)} s = ${(f.instructions / f.wall / 1e6).toFixed(0)} MIPS`).join(', '));
    }
    const m = median(ours);
    console.log(`${name}: median ${m.toFixed(2)} s whole process` + (theirs.length ? `, QEMU median ${median(theirs).toFixed(2)} s, ratio ${(m / median(theirs)).toFixed(1)}×` : '') + ` (${runs} runs)`);
  }
}

const only = process.env.BENCH_ONLY;
if (only !== 'boot') benchCore();
if (only !== 'core') benchBoots();
