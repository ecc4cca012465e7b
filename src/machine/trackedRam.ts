// Guest RAM whose slow-path writes are attributed: frames marked for
// tracking take the CPU's slow path, and every write there (CPU, loader,
// device, hypervisor) leaves a record of who wrote each byte.
import { GuestRam } from './ram.ts';
import { WriteProvenance, type WriteRecord } from './provenance.ts';

export class TrackedRam extends GuestRam {
  readonly provenance = new WriteProvenance();
  /** Who is writing now, for writes arriving through writeSlow (the CPU). Set by the machine. */
  currentCpuWriter: () => WriteRecord = () => ({ kind: 'cpu', icount: 0 });
  /** Called after any write to a tracked frame (for watchers, e.g. the Xen shim's "guest wrote into a stale frame"). */
  onTrackedWrite: ((addr: number, len: number, id: number) => void) | null = null;
  /** Called for writes that did not come from the CPU (the machine invalidates decoded code there). */
  onExternalWrite: ((addr: number, len: number) => void) | null = null;
  /** The writer of the non-CPU write in progress (for watchpoint hooks), or null. */
  externalWriter: WriteRecord | null = null;
  private cpuRecordKey = -1;
  private cpuRecordId = 0;

  /** Track a frame: its writes leave the fast path and are attributed from now on. */
  track(frame: number): void {
    this.provenance.track(frame);
    if (frame < this.frameFlags.length) this.refresh(frame);
  }

  protected override keepsWritesSlow(frame: number): boolean { return this.provenance.isTracked(frame); }

  /** Recompute the flags of low frames after the set of tracked frames changed behind our back (a restored checkpoint). */
  refreshFrames(frames: Iterable<number>): void {
    for (const f of frames) if (f < this.frameFlags.length) this.refresh(f);
  }

  override writeSlow(addr: number, size: number, value: number): void {
    super.writeSlow(addr, size, value);
    const frame = Math.floor(addr / 4096);
    if (!this.provenance.isTracked(frame)) return;
    const r = this.currentCpuWriter();
    // One record per writing instruction: bytes written by the same instruction share it.
    const key = r.icount;
    if (key !== this.cpuRecordKey || this.provenance.recordAt(this.cpuRecordId).rip !== r.rip) {
      this.cpuRecordId = this.provenance.record(r);
      this.cpuRecordKey = key;
    }
    this.provenance.note(addr, size, this.cpuRecordId);
    this.onTrackedWrite?.(addr, size, this.cpuRecordId);
  }

  /** A write by someone other than the CPU (loader, device, hypervisor), attributed to `who`. */
  writeBy(addr: number, bytes: Uint8Array, who: WriteRecord): void {
    this.externalWriteBy(addr, bytes.length, who, () => this.load(addr, bytes));
  }

  /**
   * `len` zeros written by someone other than the CPU, as writeBy writes them, storing only into frames written
   * before (GuestRam.zeroUnwritten): only while the CPU has not run.
   */
  zeroBy(addr: number, len: number, who: WriteRecord): void {
    this.externalWriteBy(addr, len, who, () => this.zeroUnwritten(addr, len));
  }

  private externalWriteBy(addr: number, len: number, who: WriteRecord, write: () => void): void {
    this.externalWriter = who;
    try { write(); } finally { this.externalWriter = null; }
    this.onExternalWrite?.(addr, len);
    const id = this.provenance.record(who);
    this.provenance.note(addr, len, id);
    this.cpuRecordKey = -1;
    this.onTrackedWrite?.(addr, len, id);
  }
}
