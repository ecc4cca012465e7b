// A whole freestanding C program (the benchmark workload) must compute in
// our core exactly what it computes natively on the host CPU.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu, FlatMemory, Stop } from '../../emulator/index.ts';
import { buildWorkload, LOAD_ADDRESS } from '../../bench/build.ts';

function nativeResult(): bigint {
  const dir = mkdtempSync(join(tmpdir(), 'bootpath-native-'));
  const main = join(dir, 'main.c');
  writeFileSync(main, '#include <stdio.h>\nunsigned long bench_main(void);\nint main(void){printf("%lx\\n", bench_main());return 0;}\n');
  const exe = join(dir, 'native');
  execFileSync('gcc', ['-O2', '-mgeneral-regs-only', '-o', exe, main, join(import.meta.dirname, '../../bench/workload.c')]);
  return BigInt('0x' + execFileSync(exe).toString().trim());
}

describe('freestanding C workload', () => {
  it('computes the same checksum as the host CPU, deterministically', () => {
    const image = buildWorkload();
    const expected = nativeResult();
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const mem = new FlatMemory(16 << 20);
      mem.write(LOAD_ADDRESS, image);
      const cpu = new Cpu({ memory: mem });
      cpu.resetFlat64();
      cpu.setRip(BigInt(LOAD_ADDRESS));
      cpu.setReg(4, 0xf00000n);
      expect(cpu.run(1_000_000_000)).toBe(Stop.Halt);
      expect(cpu.getReg(0)).toBe(expected);
      counts.push(cpu.icount);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThan(10_000_000);
  });
});
