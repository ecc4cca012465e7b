// Build native/harness.c with the machine's gcc (at test time, into a temp
// dir) and run cases on the host CPU.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_ENTRY, OUT_SIZE, STACK_WIN, packInputs, unpackResult, type CaseInput, type CaseResult } from './layout.ts';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'native', 'harness.c');

export interface NativeHarness {
  /** Results in the OUT_SIZE record layout, one per case. */
  runRaw(cases: CaseInput[]): Buffer;
  run(cases: CaseInput[]): CaseResult[];
  /**
   * CPU features of the host by CPUID (movbe popcnt bmi1 bmi2 adx lzcnt: /proc/cpuinfo may hide some
   * under a hypervisor) and 'compat32' when 32-bit code runs (a probe case in compatibility mode).
   */
  features(): Set<string>;
  dispose(): void;
}

/** Build the harness; `codeMax` > 16 allows longer code per case (multi-instruction sequences). */
export function buildHarness(codeMax = 16): NativeHarness {
  const dir = mkdtempSync(join(tmpdir(), 'bootpath-diff-'));
  const exe = join(dir, 'harness');
  const cc = process.env['CC'] || 'gcc';
  try {
    execFileSync(cc, ['-O1', '-std=gnu11', '-Wall', '-Wextra', '-fno-stack-protector', `-DCODE_MAX=${codeMax}`, '-o', exe, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`building the native harness with ${cc} failed (apt-get install gcc libc6-dev): ${err.stderr?.toString() ?? err.message}`);
  }
  return {
    run(cases: CaseInput[]): CaseResult[] {
      const buf = this.runRaw(cases);
      const out: CaseResult[] = [];
      for (let k = 0; k < cases.length; k++) out.push(unpackResult(buf, k));
      return out;
    },
    runRaw(cases: CaseInput[]): Buffer {
      const inFile = join(dir, 'cases.bin'), outFile = join(dir, 'results.bin');
      writeFileSync(inFile, packInputs(cases, codeMax));
      if (process.env['BOOTPATH_DIFF_KEEP']) writeFileSync(process.env['BOOTPATH_DIFF_KEEP'], packInputs(cases, codeMax));
      const r = spawnSync(exe, [inFile, outFile], { stdio: ['ignore', 'inherit', 'pipe'], timeout: 120_000 });
      if (r.status !== 0) throw new Error(`native harness failed (status ${r.status}, signal ${r.signal}): ${r.stderr?.toString()}`);
      const buf = readFileSync(outFile);
      if (buf.length !== cases.length * OUT_SIZE) throw new Error('native harness: short output');
      return buf;
    },
    features(): Set<string> {
      const f = new Set(execFileSync(exe, ['--features']).toString().trim().split(/\s+/).filter(Boolean));
      // compat32: a far jump into the 32-bit user code segment works (some hypervisors, e.g. PVM guests, refuse it with #GP).
      const gpr = new BigUint64Array(16);
      gpr[4] = BigInt(STACK_WIN + 128);
      const probe = this.run([{ code: Uint8Array.of(0x90), memSeed: 1, gpr, rflags: 0x202, xmm: new Uint8Array(256), patches: [], target: 0, mode: 32 }])[0]!;
      if (probe.vector === -1 && probe.rip === BigInt(CODE_ENTRY + 1)) f.add('compat32');
      return f;
    },
    dispose() { rmSync(dir, { recursive: true, force: true }); },
  };
}
