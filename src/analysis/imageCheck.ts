// The image check as an observer of a run: when the decompressor jumps into
// the new kernel, compare the image in RAM with vmlinux placed and
// relocated on the host (imageDiff.ts).
import type { RelocTable } from '../boot/relocs.ts';
import type { BootRun, RunObserver } from '../run/bootRun.ts';
import type { KernelEntry } from '../boot/phases.ts';
import { diffImage, type ImageDiff } from './imageDiff.ts';

/**
 * An observer of a BootRun that compares the image in RAM with vmlinux (placed
 * and relocated on the host) when the decompressor jumps into the new kernel;
 * the comparison is in `diff`.
 */
export class ImageCheck implements RunObserver {
  /** The comparison at the kernel's entry, once the run got there. */
  diff: ImageDiff | null = null;

  /** Called by the run at the kernel's entry: makes the comparison. */
  onKernelEntry(run: BootRun, entry: KernelEntry): void {
    const { elf, payload, symbols } = run.prepared;
    const d = diffImage({
      vmlinux: elf, relocs: payload.relocs as RelocTable | undefined, outputPhys: entry.outputPhys,
      readPhys: (a, n) => run.machine.ram.view(a, n), symbols: symbols.table, virtDelta: entry.virtDelta,
    });
    // The run inferred the delta from the relocation sites in RAM.
    this.diff = { ...d, deltaInferred: true };
  }
}
