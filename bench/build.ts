// Builds the freestanding benchmark workload with the machine's gcc into .cache/bench.
import { execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Load address of the flat image. */
export const LOAD_ADDRESS = 0x100000;

/** Build (if stale) and return the flat binary of the workload. */
export function buildWorkload(): Uint8Array {
  const out = join(here, '..', '.cache', 'bench');
  mkdirSync(out, { recursive: true });
  const elf = join(out, 'workload.elf'), bin = join(out, 'workload.bin');
  const sources = ['start.S', 'workload.c'].map((f) => join(here, f));
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(bin) || statSync(bin).mtimeMs < newest) {
    execFileSync('gcc', ['-O2', '-ffreestanding', '-fno-pic', '-fno-pie', '-no-pie', '-nostdlib', '-static', '-mgeneral-regs-only',
      '-fno-stack-protector', '-fcf-protection=none', '-fno-asynchronous-unwind-tables', `-Wl,-Ttext=0x${LOAD_ADDRESS.toString(16)}`,
      '-Wl,--build-id=none', '-o', elf, ...sources], { stdio: 'inherit' });
    execFileSync('objcopy', ['-O', 'binary', elf, bin], { stdio: 'inherit' });
  }
  return new Uint8Array(readFileSync(bin));
}
