// Build and run the bare-metal programs of firmware/: under bootpath (in
// process, on the minimal machine) and under QEMU TCG (the oracle).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Machine, type Outcome } from '../../src/machine/machine.ts';
import { loadMultibootImage, enterMultiboot } from '../../src/boot/multiboot.ts';

const run = promisify(execFile);
export const FIRMWARE = resolve(import.meta.dirname, '../../firmware');

export function buildDir(): string { return mkdtempSync(join(tmpdir(), 'bootpath-fw-')); }

/** Assemble and link firmware/<name>.S; returns the ELF path. */
export async function build(name: string, dir: string): Promise<string> {
  const out = join(dir, `${name}.elf`);
  await run('sh', [join(FIRMWARE, 'build.sh'), join(FIRMWARE, `${name}.S`), out]);
  return out;
}

export interface Result { serial: string; status: number | null; outcome?: Outcome; timedOut?: boolean }

export function hasQemu(): boolean {
  return ['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].some((p) => existsSync(p));
}

/** Run under QEMU TCG; status is QEMU's exit status (isa-debug-exit: (v << 1) | 1; 0 after a triple fault with -no-reboot). */
export async function runQemu(elf: string, timeoutMs = 10_000): Promise<Result> {
  const args = ['-accel', 'tcg', '-cpu', 'max', '-m', '64', '-display', 'none', '-no-reboot', '-serial', 'stdio', '-monitor', 'none',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', elf];
  try {
    const { stdout } = await run('qemu-system-x86_64', args, { timeout: timeoutMs, encoding: 'latin1', maxBuffer: 1 << 20 });
    return { serial: stdout, status: 0 };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; killed?: boolean; signal?: string };
    if (err.killed || err.signal) return { serial: err.stdout ?? '', status: null, timedOut: true };
    if (typeof err.code === 'number') return { serial: err.stdout ?? '', status: err.code };
    throw e;
  }
}

/** Run under bootpath's minimal machine. status: the exit-port status, null when the run ended otherwise. */
export function runBootpath(elf: string, maxInstructions = 50_000_000): Result {
  const m = new Machine({ ramSize: 64 * 1024 * 1024 });
  enterMultiboot(m.cpu, m.ram, loadMultibootImage(m.ram, new Uint8Array(readFileSync(elf))));
  const outcome = m.run(maxInstructions);
  return { serial: m.uart.text(), status: outcome.kind === 'exit' ? outcome.status & 0xff : null, outcome };
}
