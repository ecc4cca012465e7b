// Hang detection between run slices: the machine is deterministic, so if
// RIP, every general register and the flags are the same at two slice
// boundaries with nothing else able to change them (no interrupts on the
// boot path), the guest is spinning without progress — e.g. purgatory's
// `for (;;)` after a checksum mismatch.
import type { Cpu } from '../../emulator/index.ts';

export class HangDetector {
  private last: string | null = null;
  private lastIcount = 0;

  /** Returns a description when the guest made no progress since the previous sample. */
  sample(c: Cpu): string | null {
    const parts = [c.ripLo, c.ripHi, c.getRflags()];
    for (let r = 0; r < 16; r++) parts.push(c.lo[r]!, c.hi[r]!);
    const key = parts.join(',');
    const same = key === this.last;
    const since = c.icount - this.lastIcount;
    this.last = key; this.lastIcount = c.icount;
    if (!same) return null;
    return `no progress: the same registers at rip 0x${c.getRip().toString(16)} after ${since} more instructions (a loop that changes nothing)`;
  }
}

/** The hang detector as a run observer: samples at each slice boundary of the run. */
export class HangObserver {
  readonly detector = new HangDetector();
  onSlice(run: { machine: { cpu: Cpu } }): string | null { return this.detector.sample(run.machine.cpu); }
}
