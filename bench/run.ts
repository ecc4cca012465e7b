// `npm run bench`: runs CPU-bound guest code through the core and prints
// MIPS (instructions retired per second of wall time) and wall time.
import { Cpu, FlatMemory, Stop } from '../emulator/index.ts';
import { buildWorkload, LOAD_ADDRESS } from './build.ts';

function runWorkload(image: Uint8Array): { insns: number; seconds: number; cpuSeconds: number; result: bigint } {
  const mem = new FlatMemory(16 << 20);
  mem.write(LOAD_ADDRESS, image);
  const cpu = new Cpu({ memory: mem });
  cpu.resetFlat64();
  if (process.env.BOOTPATH_JIT_THRESHOLD) cpu.jitThreshold = Number(process.env.BOOTPATH_JIT_THRESHOLD);
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

const image = buildWorkload();
const runs = Number(process.env.BENCH_RUNS ?? 3);
console.log(`workload: freestanding C (sort, LZ decode, adler32), ${image.length} bytes at 0x${LOAD_ADDRESS.toString(16)}`);
const results = [];
for (let r = 0; r < runs; r++) {
  const x = runWorkload(image);
  results.push(x);
  console.log(`run ${r + 1}: ${(x.insns / 1e6).toFixed(1)} M instructions in ${x.seconds.toFixed(3)} s = ${(x.insns / x.seconds / 1e6).toFixed(1)} MIPS (${(x.insns / x.cpuSeconds / 1e6).toFixed(1)} per CPU-second; result 0x${x.result.toString(16)})`);
}
const mips = results.map((x) => x.insns / x.seconds / 1e6).sort((a, b) => a - b);
console.log(`interpreter: median ${mips[Math.floor(mips.length / 2)]!.toFixed(1)} MIPS over ${runs} runs`);
