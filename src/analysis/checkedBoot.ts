// A boot with the image check: the library's and the CLI's one-call boot.
// Runs a BootRun to its end and returns what it found, with the image in
// RAM compared with vmlinux at the decompressor's jump into the kernel.
import { readFileSync } from 'node:fs';
import { BootRun, type RunObserver, type RunResult } from '../run/bootRun.ts';
import type { BootOptions } from '../run/prepare.ts';
import { FootprintRecorder, bootLayout, type BootLayout } from '../run/footprint.ts';
import { decompressorRegions } from '../boot/decompressorLayout.ts';
import { readVmlinux } from '../boot/vmlinux.ts';
import { ImageCheck } from './imageCheck.ts';
import type { ImageDiff } from './imageDiff.ts';

/** What `bootKexec` found: the run's result and the image check at the kernel's entry. */
export interface BootResult extends RunResult {
  /**
   * RAM compared with vmlinux (relocated by the KASLR delta) when the decompressor jumped to startup_64; null if it never
   * did. `bytesDiffering === 0`: identical.
   */
  imageDiff: ImageDiff | null;
  /** Where everything sat and which frames each phase touched (when `extras.layout` asked for it). */
  layout?: BootLayout;
}

/** What else bootKexec can record. */
export interface BootExtras {
  /** Record the layout: kexec's segments, the decompressor's relocated parts, the image, each phase's footprint. */
  layout?: boolean;
  /** The decompressor's ELF (arch/x86/boot/compressed/vmlinux) to name its regions in the layout. */
  decompressorElf?: string | null;
  /** More observers of the run (e.g. the benchmark's phase timer). */
  observers?: RunObserver[];
}

/**
 * Boot a kernel as kexec would, from purgatory to the target (default
 * x86_64_start_kernel), a crash, a hang or the budget, and check the image
 * the decompressor produced against vmlinux. Deterministic: the same options
 * give the same run, instruction for instruction. Throws InputError for an
 * unreadable or malformed kernel, purgatory or symbol file, or an unknown
 * `until` symbol.
 */
export function bootKexec(opts: BootOptions, extras: BootExtras = {}): BootResult {
  const check = new ImageCheck();
  const rec = extras.layout ? new FootprintRecorder() : null;
  const run = new BootRun(opts, [check, ...(rec ? [rec] : []), ...(extras.observers ?? [])]);
  rec?.attach(run);
  const result: BootResult = { ...run.runToEnd(), imageDiff: check.diff };
  if (rec) {
    // The decompressor the extras name, else the one the boot prepared (its options' or the bundled one).
    const f = extras.decompressorElf;
    const elf = f ? readVmlinux(new Uint8Array(readFileSync(f)), f) : run.prepared.decompressor;
    result.layout = bootLayout(run, rec, elf ? decompressorRegions(run.plan, run.elf, elf) : []);
  }
  return result;
}
