// `npm run bench:wasm`: the WebAssembly block backend (emulator/jit/wasm/)
// against the JS block compiler on the same guest code, same inputs and the
// same instruction counts. Each run is a process of its own (so neither
// backend's JIT state warms the other's), modes alternate, medians are
// reported; MIPS per wall second and per CPU-second (process.cpuUsage, all
// threads: V8's background compilation of JS and Wasm included).
//   BENCH_RUNS=n (5)  BENCH_MODES=js,wasm,wasm-block,wasm-noloop  BENCH_WORK=sha256,workload,tiny
//   BENCH_REGION_BLOCKS=n: most blocks in a region (the backend's default otherwise)
// Modes: js        the JS compiler (regions, loops inside) over plain typed arrays (`--jit js`)
//        wasm      the Wasm backend as shipped (`--jit wasm`, the default): a hot block and up to 15 blocks it
//                  went on to in one Wasm function (emulator/jit/wasm/region.ts), else one function per block
//        wasm-block  one Wasm function per block (no regions), self-loops inside it
//        wasm-noloop  the same with every pass returning to the run loop
// (Before the backend was in the run loop wasm and wasm-block were called wasm-region and wasm, and js-block
// and js-plain existed; docs/cpu-core.md's figures use those names.)
// Workloads: sha256    kexec-tools purgatory's verify_sha256_digest over 12 MiB (its sha256_process, unrolled)
//            workload  bench/workload.c (sort, LZ decode, adler32) as `npm run bench` runs it, 8 times over (433 M instructions)
//            boot-xz, boot-debian  a whole kexec boot (bench/boot.mjs's), per phase: purgatory (sha256), decompressor (xz), kernel
//            tiny      two 2-instruction blocks alternating 50 M times (200 M instructions): the cost of a block call
// The timed code is dist/ (built first when stale), as bench/run.ts times it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkload, LOAD_ADDRESS } from './build.ts';
import { distModule, ensureDist } from './dist.ts';
import type { BackendStats, WasmBackendOptions } from '../emulator/jit/wasm/machine.ts';

const WORKLOAD_REPEAT = 8;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Result { mode: string; work: string; insns: number; wall: number; cpu: number; result: string; compiled: number; wasmBytes: number; compileCpu: number; regions: number; phases?: Phases }

type Phases = { phase: string; instructions: number; wall: number; cpu: number }[];
const BOOTS: Record<string, string> = {
  'boot-xz': join(repo, 'kernels/tiny-6.1/bzImage.xz'),
  'boot-debian': join(process.env.BOOTPATH_CACHE ?? join(repo, '.cache'), 'debian-stock', 'vmlinuz'),
};

/**
 * A whole kexec boot as bench/boot.mjs runs it, with the backend put in just before purgatory's first
 * instruction and the RAM (the machine's low RAM) in the Wasm memory: MIPS per phase.
 */
async function childBoot(mode: string, work: string): Promise<Result & { phases: Phases }> {
  const { bootKexec } = await distModule<typeof import('../src/analysis/checkedBoot.ts')>('src/analysis/checkedBoot.js');
  const { DEFAULT_CMDLINE } = await distModule<typeof import('../src/run/prepare.ts')>('src/run/prepare.js');
  const C = await distModule<typeof import('../emulator/jit/wasm/glue.ts')>('emulator/jit/wasm/glue.js');
  const now = () => performance.now() / 1000;
  const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const marks: { phase: string; icount: number; wall: number; cpu: number }[] = [];
  let stats: BackendStats | null = null;
  let blocksCompiled = () => 0;
  const calls = process.env.BENCH_PROFILE ? new Map<unknown, number>() : undefined;
  const r = bootKexec({
    kernel: BOOTS[work]!, cmdline: DEFAULT_CMDLINE, maxInstructions: 30_000_000_000, jit: mode === 'js' ? 'js' : 'wasm',
    prepare: (m) => {
      const w = m.cpu.wasm;
      if ((w === null) !== (mode === 'js')) throw new Error(`bench: ${mode} but the machine has ${w === null ? 'no' : 'a'} Wasm backend`);
      if (w !== null) { Object.assign(w.options, backendOptions(mode), calls ? { calls } : {}); stats = w.stats; }
      blocksCompiled = () => m.cpu.blocksCompiled;
      marks.push({ phase: 'purgatory', icount: 0, wall: now(), cpu: cpuNow() });
    },
  }, { observers: [{ onPhase(run, phase) { marks.push({ phase, icount: run.machine.cpu.icount, wall: now(), cpu: cpuNow() }); } }] });
  marks.push({ phase: 'end', icount: r.instructions, wall: now(), cpu: cpuNow() });
  if (process.env.BENCH_PROFILE) console.error('imports called:', JSON.stringify(C.importCalls));
  if (calls !== undefined) await printHotBlocks(calls, 40);
  const phases = marks.slice(0, -1).map((m, k) => ({ phase: m.phase, instructions: marks[k + 1]!.icount - m.icount, wall: marks[k + 1]!.wall - m.wall, cpu: marks[k + 1]!.cpu - m.cpu }));
  const st = stats as BackendStats | null;
  return {
    mode, work, insns: r.instructions, wall: marks[marks.length - 1]!.wall - marks[0]!.wall, cpu: marks[marks.length - 1]!.cpu - marks[0]!.cpu,
    result: `${r.outcome}, image ${r.imageDiff?.bytesDiffering === 0 ? 'identical' : 'DIFFERS'}`, compiled: blocksCompiled(), wasmBytes: st?.wasmBytes ?? 0,
    compileCpu: st?.compileSeconds ?? 0, regions: st?.regions ?? 0, phases,
  };
}

/** The Wasm backend's options for a mode (timing: its compile time is reported). */
function backendOptions(mode: string): WasmBackendOptions {
  if (!['wasm', 'wasm-block', 'wasm-noloop'].includes(mode)) throw new Error(`bench/wasm.ts: unknown mode ${mode}`);
  const regionBlocks = process.env.BENCH_REGION_BLOCKS ? Number(process.env.BENCH_REGION_BLOCKS) : undefined;
  return { regions: mode === 'wasm', loops: mode !== 'wasm-noloop', timing: true, ...(regionBlocks ? { regionBlocks } : {}) };
}

/** BENCH_PROFILE=1 with --child: the hottest compiled functions (calls, instructions, what ends them, the handler calls left in them). */
async function printHotBlocks(calls: Map<unknown, number>, top = 25): Promise<void> {
  const G = await distModule<typeof import('../emulator/jit/wasm/gen.ts')>('emulator/jit/wasm/gen.js');
  console.error(`compiled functions called ${[...calls.values()].reduce((x, y) => x + y, 0)} times (from the run loop)`);
  for (const [b, k] of ([...calls] as [import('../emulator/insn.ts').Block, number][]).sort((x, y) => y[1] * y[0].insns.length - x[1] * x[0].insns.length).slice(0, top)) {
    const out = new Map<string, number>();
    for (const i of b.insns) if (G.inlineForm(i) === null) out.set(i.exec.name, (out.get(i.exec.name) ?? 0) + 1);
    console.error(`0x${(b.ripLo >>> 0).toString(16)} ${b.insns.length} insns, ${k} calls, ${(k * b.insns.length / 1e6).toFixed(1)} M insns (first-pass), ends ${b.insns[b.insns.length - 1]!.exec.name}; handler calls: ${[...out].map(([n, c]) => `${n} ${c}`).join(', ') || 'none'}`);
  }
}

async function child(mode: string, work: string): Promise<Result> {
  if (work in BOOTS) return await childBoot(mode, work);
  const E = await distModule<typeof import('../emulator/index.ts')>('emulator/index.js');
  const M = await distModule<typeof import('../emulator/jit/wasm/machine.ts')>('emulator/jit/wasm/machine.js');
  const ramSize = 32 << 20;
  const calls = process.env.BENCH_PROFILE ? new Map<unknown, number>() : undefined;
  const machine = mode === 'js' ? null : new M.WasmMachine(ramSize, { ...backendOptions(mode), ...(calls ? { calls } : {}) });
  const mem = machine !== null ? machine.flat : new E.FlatMemory(ramSize);
  const cpu = machine !== null ? new E.Cpu({ memory: mem, wasm: machine }) : new E.Cpu({ memory: mem });
  cpu.resetFlat64();
  let check: () => string;
  let again: (() => void) | null = null;
  if (work === 'workload') {
    const image = buildWorkload();
    mem.write(LOAD_ADDRESS, image);
    // Runs again from the start: the image copied back into RAM directly (its code bytes are unchanged, so the
    // decoded and compiled code stays; its .data, the generator's seed, is reset), then RIP and RSP.
    again = () => {
      mem.ram.set(image, LOAD_ADDRESS);
      cpu.setRip(BigInt(LOAD_ADDRESS));
      cpu.setReg(4, 0xf00000n);
    };
    again();
    check = () => `rax=0x${cpu.getReg(0).toString(16)}`;
  } else if (work === 'tiny') {
    // Two blocks of two instructions calling each other 50 M times: the cost of a block call, all but no work in it.
    //   inc eax; jmp 1f / 1: dec ecx; jnz 0b; hlt
    mem.write(LOAD_ADDRESS, Uint8Array.of(0xff, 0xc0, 0xeb, 0x00, 0xff, 0xc9, 0x75, 0xf8, 0xf4));
    cpu.setRip(BigInt(LOAD_ADDRESS));
    cpu.setReg(1, 50_000_000n);
    cpu.setReg(4, 0xf00000n);
    check = () => `rax=${cpu.getReg(0)}`;
  } else {
    const P = await distModule<typeof import('../src/boot/kexec/purgatory.ts')>('src/boot/kexec/purgatory.js');
    const base = 0x100000, data = 0x1000000, len = 12 << 20;
    const p = P.linkPurgatory(P.readPurgatory(join(repo, 'kernels/purgatory/purgatory.o')), base);
    const bytes = new Uint8Array(len);
    let x = 0x12345678;
    for (let k = 0; k < len; k++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; bytes[k] = x & 0xff; }
    const table = new Uint8Array(16 * 16);
    const dv = new DataView(table.buffer);
    dv.setUint32(0, data, true); dv.setUint32(8, len, true);
    p.set('sha256_regions', table);
    p.set('sha256_digest', new Uint8Array(createHash('sha256').update(bytes).digest()));
    mem.write(base, p.bytes);
    mem.write(data, bytes);
    mem.write(0x800, Uint8Array.of(0xf4)); // hlt: where verify_sha256_digest returns
    const sp = 0xf00000 - 8;
    mem.write(sp, Uint8Array.of(0x00, 0x08, 0, 0, 0, 0, 0, 0));
    cpu.setReg(4, BigInt(sp));
    cpu.setRip(BigInt(p.symbol('verify_sha256_digest').address));
    check = () => `rax=${cpu.getReg(0)} (0: digest verified)`;
  }
  const stats = machine?.stats ?? null;
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  let stop = cpu.run(20_000_000_000);
  // The workload is short (54 M instructions): it runs WORKLOAD_REPEAT times over (compiled code kept), each giving the same result.
  const first = check();
  for (let k = 1; again !== null && k < WORKLOAD_REPEAT && stop === E.Stop.Halt; k++) {
    again();
    cpu.halted = false;
    stop = cpu.run(20_000_000_000);
    if (check() !== first) throw new Error(`workload: run ${k + 1} gave ${check()}, the first ${first}`);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.cpuUsage(u0);
  if (calls !== undefined) await printHotBlocks(calls);
  if (stop !== E.Stop.Halt) throw new Error(`${work} under ${mode} did not finish: stop ${stop} ${cpu.lastFault?.message ?? ''} at rip 0x${cpu.getRip().toString(16)}`);
  return { mode, work, insns: cpu.icount, wall, cpu: (u.user + u.system) / 1e6, result: check(), compiled: cpu.blocksCompiled, wasmBytes: stats?.wasmBytes ?? 0, compileCpu: stats?.compileSeconds ?? 0, regions: stats?.regions ?? 0 };
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await child(process.argv[3]!, process.argv[4]!)));
} else {
  ensureDist();
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const modes = (process.env.BENCH_MODES ?? 'js,wasm,wasm-block,wasm-noloop').split(',');
  const works = (process.env.BENCH_WORK ?? 'sha256,workload,tiny').split(',');
  for (const work of works) {
    const all = new Map<string, Result[]>(modes.map((m) => [m, []]));
    for (let r = 0; r < runs; r++) {
      // Alternate: every mode once per round, the order rotated each round.
      for (let k = 0; k < modes.length; k++) {
        const mode = modes[(k + r) % modes.length]!;
        const p = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, work], { encoding: 'utf8', cwd: repo, maxBuffer: 1 << 24 });
        const line = p.stdout.trim().split('\n').pop() ?? '';
        if (p.status !== 0 || !line.startsWith('{')) throw new Error(`bench/wasm.ts ${mode} ${work} failed: ${p.stderr}`);
        const x = JSON.parse(line) as Result;
        all.get(mode)!.push(x);
        console.log(`${work} ${mode.padEnd(11)} run ${r + 1}: ${(x.insns / 1e6).toFixed(1)} M insns, ${x.wall.toFixed(3)} s wall = ${(x.insns / x.wall / 1e6).toFixed(0)} MIPS, ${x.cpu.toFixed(3)} CPU-s = ${(x.insns / x.cpu / 1e6).toFixed(0)} MIPS/CPU-s; ${x.compiled} blocks compiled${x.regions ? ` (${x.regions} regions)` : ''}${x.wasmBytes ? ` (${(x.wasmBytes / 1024).toFixed(0)} KiB Wasm, ${x.compileCpu.toFixed(3)} s to compile)` : ''}; ${x.result}`);
        if (x.phases) console.log('    ' + x.phases.filter((f) => f.instructions >= 1e6).map((f) => `${f.phase} ${(f.instructions / 1e6).toFixed(0)} M: ${(f.instructions / f.wall / 1e6).toFixed(0)} MIPS, ${(f.instructions / f.cpu / 1e6).toFixed(0)} per CPU-s`).join('; '));
      }
    }
    const counts = new Set([...all.values()].flat().map((x) => `${x.insns} ${x.result}`));
    console.log(`${work}: ${counts.size === 1 ? 'same instruction count and result in every run' : `RUNS DIFFER: ${[...counts].join(' | ')}`}`);
    for (const [mode, xs] of all) {
      for (const ph of xs[0]?.phases?.filter((f) => f.instructions >= 1e6).map((f) => f.phase) ?? []) {
        const per = xs.map((x) => x.phases!.find((f) => f.phase === ph)!);
        console.log(`${work} ${mode.padEnd(11)} ${ph}: median ${median(per.map((f) => f.instructions / f.wall / 1e6)).toFixed(0)} MIPS wall, ${median(per.map((f) => f.instructions / f.cpu / 1e6)).toFixed(0)} per CPU-second`);
      }
      console.log(`${work} ${mode.padEnd(11)} median ${median(xs.map((x) => x.insns / x.wall / 1e6)).toFixed(0)} MIPS wall, ${median(xs.map((x) => x.insns / x.cpu / 1e6)).toFixed(0)} MIPS per CPU-second (${xs.length} runs)`);
    }
  }
}
