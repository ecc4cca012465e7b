// Checkpoints of one run, for going back in time: at each checkpoint the
// state of every object of the run is captured in place (stateImage.ts) and
// guest RAM starts an undo log — each frame's bytes are saved before its
// first write after the checkpoint. Restoring checkpoint k puts back the
// pages of every later log (newest first, so each page ends as it was at k)
// and then the objects; the run is deterministic, so executing forward from
// k recreates the later checkpoints exactly. Memory stays bounded: past
// `maxBytes`, the two oldest neighbouring checkpoints (never the first) are
// merged, making the history coarser, never shorter.
import type { RunMachine } from './machineRun.ts';
import { PAGE } from '../machine/ram.ts';
import { captureState, restoreState, type CaptureOptions, type StateImage } from './stateImage.ts';

interface Checkpoint {
  icount: number;
  state: StateImage;
  /** Frame → its bytes at this checkpoint, for the frames first written after it (until the next checkpoint). */
  pages: Map<number, Uint8Array>;
}

export interface CheckpointStats { count: number; bytes: number; icounts: number[] }

export class Checkpoints {
  private readonly list: Checkpoint[] = [];
  private pageBytes = 0;

  constructor(
    private readonly m: RunMachine,
    private readonly roots: () => object[],
    private readonly capture: () => CaptureOptions,
    /** Bytes of saved pages and state beyond which old checkpoints are merged. */
    readonly maxBytes = 1 << 30,
  ) {}

  get count(): number { return this.list.length; }
  get first(): number { return this.list[0]?.icount ?? 0; }
  get last(): number { return this.list[this.list.length - 1]?.icount ?? -1; }

  stats(): CheckpointStats {
    return { count: this.list.length, bytes: this.bytes(), icounts: this.list.map((c) => c.icount) };
  }

  /** Take a checkpoint at the current instruction count (a no-op when the newest is already here). */
  take(): void {
    const icount = this.m.cpu.icount;
    if (icount === this.last) return;
    if (icount < this.last) throw new Error(`checkpoint at ${icount} is before the newest one (${this.last})`);
    const cp: Checkpoint = { icount, state: captureState(this.roots(), this.capture()), pages: new Map() };
    this.list.push(cp);
    this.startLog(cp);
    this.bound();
  }

  /** The index of the newest checkpoint at or before `icount` (-1: none). */
  indexAtOrBefore(icount: number): number {
    for (let k = this.list.length - 1; k >= 0; k--) if (this.list[k]!.icount <= icount) return k;
    return -1;
  }

  icountOf(k: number): number { return this.list[k]!.icount; }

  /** Go back to checkpoint k: RAM, CPU, devices, Xen and the run's own state as they were. Later checkpoints are dropped. */
  restore(k: number): void {
    if (k < 0 || k >= this.list.length) throw new Error(`no checkpoint ${k}`);
    const ram = this.m.ram, cpu = this.m.cpu;
    ram.onFirstWrite = null;
    for (let j = this.list.length - 1; j >= k; j--) {
      for (const [frame, bytes] of this.list[j]!.pages) {
        ram.restoreFrame(frame, bytes);
        cpu.notifyPhysicalWrite(frame * PAGE, PAGE);
      }
    }
    for (let j = this.list.length - 1; j > k; j--) this.pageBytes -= this.pagesOf(this.list[j]!);
    this.list.length = k + 1;
    const cp = this.list[k]!;
    this.pageBytes -= this.pagesOf(cp);
    cp.pages = new Map();
    restoreState(cp.state);
    // Caches are not state: translations and decoded blocks are rebuilt from the restored machine.
    cpu.blocks.flush();
    this.startLog(cp);
  }

  /** Stop logging and forget every checkpoint. */
  clear(): void {
    this.m.ram.onFirstWrite = null;
    this.m.ram.disarmWriteLog();
    this.m.cpu.flushTlb();
    this.list.length = 0;
    this.pageBytes = 0;
  }

  private startLog(cp: Checkpoint): void {
    const ram = this.m.ram;
    ram.onFirstWrite = (frame, before) => { cp.pages.set(frame, before); this.pageBytes += PAGE; };
    ram.armWriteLog();
    this.m.cpu.flushTlb();
  }

  private pagesOf(cp: Checkpoint): number { return cp.pages.size * PAGE; }

  private bytes(): number {
    let b = this.pageBytes;
    for (const c of this.list) b += c.state.bytes;
    return b;
  }

  /** Merge the oldest mergeable pair while over the bound: checkpoint k+1's pages go to k where k has none of its own. */
  private bound(): void {
    while (this.bytes() > this.maxBytes && this.list.length > 2) {
      // Never merge into the newest (its log is live) and keep the first (the history's beginning).
      const k = 1 < this.list.length - 2 ? 1 : 0;
      const a = this.list[k]!, b = this.list[k + 1]!;
      if (b === this.list[this.list.length - 1]) break;
      for (const [f, bytes] of b.pages) {
        if (a.pages.has(f)) this.pageBytes -= PAGE;
        else a.pages.set(f, bytes);
      }
      this.list.splice(k + 1, 1);
    }
  }
}
