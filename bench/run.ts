// `npm run bench`: runs CPU-bound guest code through the core and prints
// MIPS (instructions retired per second of wall time) and wall time.
import { Cpu, FlatMemory, Stop, DEFAULT_COMPILE_THRESHOLD } from '../emulator/index.ts';
import { buildWorkload, LOAD_ADDRESS } from './build.ts';

function runWorkload(image: Uint8Array, jitThreshold: number): { insns: number; seconds: number; cpuSeconds: number; result: bigint } {
  const mem = new FlatMemory(16 << 20);
  mem.write(LOAD_ADDRESS, image);
  const cpu = new Cpu({ memory: mem });
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

const image = buildWorkload();
const runs = Number(process.env.BENCH_RUNS ?? 3);
console.log(`workload: freestanding C (sort, LZ decode, adler32), ${image.length} bytes at 0x${LOAD_ADDRESS.toString(16)}`);
// Two configurations: the interpreter alone, and with hot blocks compiled to JavaScript (the default).
const modes: [string, number][] = [['interpreter only', 0], ['with the block compiler', DEFAULT_COMPILE_THRESHOLD]];
if (process.env.BOOTPATH_JIT_THRESHOLD !== undefined) modes.splice(0, 2, [`jit threshold ${process.env.BOOTPATH_JIT_THRESHOLD}`, Number(process.env.BOOTPATH_JIT_THRESHOLD)]);
for (const [name, threshold] of modes) {
  const mips: number[] = [];
  for (let r = 0; r < runs; r++) {
    const x = runWorkload(image, threshold);
    mips.push(x.insns / x.seconds / 1e6);
    console.log(`${name}, run ${r + 1}: ${(x.insns / 1e6).toFixed(1)} M instructions in ${x.seconds.toFixed(3)} s = ${(x.insns / x.seconds / 1e6).toFixed(1)} MIPS (${(x.insns / x.cpuSeconds / 1e6).toFixed(1)} per CPU-second; result 0x${x.result.toString(16)})`);
  }
  mips.sort((a, b) => a - b);
  console.log(`${name}: median ${mips[Math.floor(mips.length / 2)]!.toFixed(1)} MIPS over ${runs} runs`);
}
