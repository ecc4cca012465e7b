// Build native/harness.c with the machine's gcc (at test time, into a temp
// dir) and run cases on the host CPU, or, for 32-bit cases on a host that
// refuses 32-bit code, its i386 build under QEMU user mode (qemu-i386).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Case } from './generate.ts';
import { qemuCompared, qemuSkip } from './qemu.ts';
import { CODE_ENTRY, OUT_SIZE, STACK_WIN, packInputs, unpackResult, type CaseInput, type CaseResult } from './layout.ts';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'native', 'harness.c');

/**
 * Where the expected results come from: the host CPU, or QEMU's TCG running
 * the harness's i386 build (32-bit cases only; a weaker oracle, see
 * docs/differential.md).
 */
export type Oracle = 'host' | 'qemu-i386';

export const ORACLE_LABEL: Record<Oracle, string> = {
  host: 'host CPU',
  'qemu-i386': 'QEMU TCG (qemu-i386 user mode; the host refuses 32-bit code)',
};

/** QEMU's i386 user-mode emulator (BOOTPATH_DIFF_QEMU: another binary, or a missing one to see the test without it). */
const QEMU = process.env['BOOTPATH_DIFF_QEMU'] || 'qemu-i386';

/** Why the QEMU oracle cannot run here, or null when it can (qemu-i386 and gcc -m32 are installed). */
export function qemuMissing(): string | null {
  const q = spawnSync(QEMU, ['--version'], { stdio: 'ignore' });
  if (q.error || q.status !== 0) return `no ${QEMU} (apt-get install qemu-user)`;
  const dir = mkdtempSync(join(tmpdir(), 'bootpath-m32-'));
  try {
    const src = join(dir, 't.c');
    writeFileSync(src, 'int main(void) { return 0; }\n');
    const r = spawnSync(process.env['CC'] || 'gcc', ['-m32', '-static', '-o', join(dir, 't'), src], { stdio: 'ignore' });
    return r.status === 0 ? null : 'gcc cannot build static 32-bit programs (apt-get install gcc-multilib)';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** native/harness.c's CASE_RUNNING: the vector a case's record holds while it runs. */
const CASE_RUNNING = -3;

export interface NativeHarness {
  readonly oracle: Oracle;
  /** Results in the OUT_SIZE record layout, one per case. */
  runRaw(cases: CaseInput[]): Buffer;
  /**
   * Cases of the last runRaw that QEMU itself died on (an abort or a host
   * signal in TCG), by index, with how: they have no result and are skipped.
   * Always empty for the host CPU, where a dying harness is an error.
   */
  readonly died: Map<number, string>;
  run(cases: CaseInput[]): CaseResult[];
  /**
   * CPU features of the host by CPUID (movbe popcnt bmi1 bmi2 adx lzcnt: /proc/cpuinfo may hide some
   * under a hypervisor) and 'compat32' when 32-bit code runs (a probe case in compatibility mode).
   */
  features(): Set<string>;
  /**
   * Why this oracle does not run the case, or null: the host CPU runs every
   * case; QEMU skips cases it is known to get wrong or die on (qemu.ts).
   */
  skip(c: Case): string | null;
  /** The case as compared with this oracle's result k: as generated for the host CPU, QEMU's known inaccuracies masked (qemu.ts). */
  compared(c: Case, out: Buffer, k: number): Case;
  dispose(): void;
}

/**
 * Build the harness; `codeMax` > 16 allows longer code per case (multi-instruction sequences).
 * `oracle` 'qemu-i386' builds it for i386 (static, so qemu-i386 needs no 32-bit libraries) to run under QEMU.
 */
export function buildHarness(codeMax = 16, oracle: Oracle = 'host'): NativeHarness {
  const dir = mkdtempSync(join(tmpdir(), 'bootpath-diff-'));
  const exe = join(dir, 'harness');
  const cc = process.env['CC'] || 'gcc';
  const qemu = oracle === 'qemu-i386';
  const archFlags = qemu ? ['-m32', '-static', '-fno-pie', '-no-pie'] : [];
  try {
    execFileSync(cc, [...archFlags, qemu ? '-O2' : '-O1', '-std=gnu11', '-Wall', '-Wextra', '-fno-stack-protector', `-DCODE_MAX=${codeMax}`, '-o', exe, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`building the native harness with ${cc} ${archFlags.join(' ')} failed (apt-get install gcc libc6-dev${qemu ? ' gcc-multilib' : ''}): ${err.stderr?.toString() ?? err.message}`);
  }
  // No core files from QEMU's aborts (it writes the guest's itself when the limit allows).
  const cmd = (args: string[]): [string, string[]] => qemu ? ['sh', ['-c', 'ulimit -c 0; exec "$@"', 'sh', QEMU, exe, ...args]] : [exe, args];
  return {
    oracle,
    run(cases: CaseInput[]): CaseResult[] {
      const buf = this.runRaw(cases);
      const out: CaseResult[] = [];
      for (let k = 0; k < cases.length; k++) out.push(unpackResult(buf, k));
      return out;
    },
    died: new Map<number, string>(),
    runRaw(cases: CaseInput[]): Buffer {
      const inFile = join(dir, 'cases.bin'), outFile = join(dir, 'results.bin');
      if (process.env['BOOTPATH_DIFF_KEEP']) writeFileSync(process.env['BOOTPATH_DIFF_KEEP'], packInputs(cases, codeMax));
      const buf = Buffer.alloc(cases.length * OUT_SIZE);
      this.died.clear();
      writeFileSync(inFile, packInputs(cases, codeMax));
      // Under QEMU, a case it dies on is noted and the run goes on after it.
      for (let from = 0; from < cases.length;) {
        const r = spawnSync(...cmd([inFile, outFile, String(from)]), { cwd: dir, stdio: ['ignore', 'inherit', 'pipe'], timeout: 300_000 });
        const part = readFileSync(outFile);
        const n = cases.length - from;
        if (r.status === 0) {
          if (part.length !== n * OUT_SIZE) throw new Error('native harness: short output');
          part.copy(buf, from * OUT_SIZE);
          break;
        }
        let k = -1;
        if (qemu && part.length === n * OUT_SIZE) for (k = 0; k < n && part.readInt32LE(k * OUT_SIZE) !== CASE_RUNNING; k++);
        if (k < 0 || k === n) throw new Error(`native harness (${ORACLE_LABEL[oracle]}) failed (status ${r.status}, signal ${r.signal}): ${r.stderr?.toString()}`);
        part.copy(buf, from * OUT_SIZE, 0, k * OUT_SIZE);
        const how = r.stderr?.toString().trim().split('\n')[0] ?? '';
        this.died.set(from + k, `QEMU died on it (${r.signal ?? `status ${r.status}`}${how ? `: ${how}` : ''})`);
        buf.writeInt32LE(CASE_RUNNING, (from + k) * OUT_SIZE);
        from += k + 1;
      }
      // A 32-bit CPU has no R8-R15 or XMM8-15; in compatibility mode they are out of reach and keep their values.
      if (qemu) {
        cases.forEach((c, k) => {
          for (let i = 8; i < 16; i++) buf.writeBigUInt64LE(c.gpr[i]!, k * OUT_SIZE + 8 + 8 * i);
          buf.set(c.xmm.subarray(128, 256), k * OUT_SIZE + 152 + 128);
        });
      }
      return buf;
    },
    skip(c: Case): string | null {
      return qemu ? qemuSkip(c) : null;
    },
    compared(c: Case, out: Buffer, k: number): Case {
      return qemu ? qemuCompared(c, out.readInt32LE(k * OUT_SIZE)) : c;
    },
    features(): Set<string> {
      const f = new Set(execFileSync(...cmd(['--features'])).toString().trim().split(/\s+/).filter(Boolean));
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
