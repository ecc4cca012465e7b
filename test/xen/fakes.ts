// Tiny fakes of the machine's side: sparse guest memory and a virtual clock.
import type { VirtualClock, WriteSource, XenFrame, XenGuestMemory } from '../../src/xen/platform.ts';

export interface LoggedWrite { addr: number; bytes: number[]; writer: WriteSource }

/** Sparse byte-addressed memory; unwritten bytes read as `fill`. Logs every write. */
export class FakeMemory implements XenGuestMemory {
  readonly bytes = new Map<number, number>();
  readonly log: LoggedWrite[] = [];
  readonly frames = new Map<number, XenFrame>();
  /** Called after each write (a "reader" can sample memory between writes). */
  onWrite?: (w: LoggedWrite) => void;
  constructor(private readonly fill = 0) {}
  writePhys(addr: number, bytes: Uint8Array, writer: WriteSource): void {
    bytes.forEach((b, i) => this.bytes.set(addr + i, b));
    const w = { addr, bytes: [...bytes], writer };
    this.log.push(w);
    this.onWrite?.(w);
  }
  readPhys(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.bytes.get(addr + i) ?? this.fill;
    return out;
  }
  setXenFrame(gfn: number, frame: XenFrame | null): void {
    if (frame) this.frames.set(gfn, frame);
    else this.frames.delete(gfn);
  }
  /** A guest (CPU) write, for tests that model the new kernel scribbling on a Xen frame. */
  guestWrite(addr: number, bytes: number[], at: number): void {
    this.writePhys(addr, Uint8Array.from(bytes), { kind: 'cpu', at });
  }
  u32(addr: number): number {
    const b = this.readPhys(addr, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  u64(addr: number): bigint {
    return new DataView(this.readPhys(addr, 8).buffer).getBigUint64(0, true);
  }
}

/** A clock the test advances by hand; callbacks fire in (at, insertion) order. */
export class FakeClock implements VirtualClock {
  private t = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void }[] = [];
  now(): number { return this.t; }
  schedule(at: number, event: (() => void) | { fire(): void }): void {
    if (at < this.t) throw new Error(`scheduled in the past: ${at} < ${this.t}`);
    this.queue.push({ at, seq: this.seq++, fn: typeof event === 'function' ? event : () => event.fire() });
  }
  /** Advance to `target`, firing every callback due on the way. */
  runUntil(target: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        if (q.at > target) continue;
        const b = best < 0 ? undefined : this.queue[best]!;
        if (!b || q.at < b.at || (q.at === b.at && q.seq < b.seq)) best = i;
      }
      if (best < 0) break;
      const q = this.queue.splice(best, 1)[0]!;
      this.t = q.at;
      q.fn();
    }
    this.t = target;
  }
  get pending(): number { return this.queue.length; }
}
