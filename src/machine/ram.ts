// Guest RAM: the core's flat RAM (one Uint8Array from physical address 0
// with one flag byte per 4 KiB frame; reads beyond RAM return all-ones,
// writes beyond it are dropped), plus the loader-side helpers the machines use.
// RAM that does not fit below `lowLimit` (a Xen HVM guest's MMIO hole starts
// at 0xF0000000) continues at 4 GiB, served through the slow path: typed
// arrays stop at 4 GiB, and the core's fast path covers the low RAM.
//
// Two things can ask for a frame's slow path here, besides a subclass's own
// reasons (write provenance): the write log of checkpoints (a frame's bytes
// are saved before its first write since the log was armed) and debugger
// watchpoints (a hook sees every read or write of a watched frame).
import { FlatMemory, FRAME_READ_SLOW, FRAME_WRITE_SLOW } from '../../emulator/index.ts';

const FOUR_GIB = 0x100000000;
export const PAGE = 4096;

/** Per-frame reasons for the slow path kept by GuestRam. */
const LOGGED = 1, WATCH_WRITE = 2, WATCH_READ = 4, ACCESS_LOG = 8, WRITE_LOG = 16;

export class GuestRam extends FlatMemory {
  /** RAM from 4 GiB up, or null. */
  readonly high: Uint8Array | null;
  /** Called once per armed frame, before its first write since `armWriteLog`, with a copy of its bytes. */
  onFirstWrite: ((frame: number, before: Uint8Array) => void) | null = null;
  /** Called for each access to a watched frame (before a write lands; after a read). */
  onWatchedAccess: ((addr: number, size: number, write: boolean) => void) | null = null;
  /** Called on the first read or write of each low frame since `logAccesses` armed it (a run's footprint). */
  onFirstAccess: ((frame: number, write: boolean) => void) | null = null;
  private readonly reasons: Uint8Array;
  /**
   * Low frames written from the host side (load, fill, write32, write, restored frames): until the CPU runs, the others
   * are zero. (The CPU's writes are not marked: the map means nothing once it has run.)
   */
  private readonly hostWritten: Uint8Array;
  private readonly highLogged: Uint8Array | null;
  private readonly highWatched: Uint8Array | null;
  /**
   * A frame may be armed for the write log (LOGGED, highLogged) / for access logging (ACCESS_LOG, WRITE_LOG): without
   * either, a host write of tens of MB (a segment's zero fill) skips the per-frame scans, which it pays for before
   * the first guest instruction in code V8 has not compiled yet.
   */
  private writeLogArmed = false;
  private accessLogArmed = false;

  /** `lowRam`, when given, is the RAM below `lowLimit` (e.g. a WasmMachine's, so compiled Wasm reads it directly). */
  constructor(readonly size: number, lowLimit = size, lowRam?: Uint8Array) {
    super(Math.min(size, lowLimit), lowRam);
    this.high = size > lowLimit ? new Uint8Array(size - lowLimit) : null;
    this.reasons = new Uint8Array(this.frameFlags.length);
    this.hostWritten = new Uint8Array(this.frameFlags.length);
    this.highLogged = this.high ? new Uint8Array(this.high.length / PAGE) : null;
    this.highWatched = this.high ? new Uint8Array(this.high.length / PAGE) : null;
  }

  /** The high-RAM array offset of a physical address, or -1. */
  private highOffset(addr: number): number {
    const h = this.high;
    if (h === null || addr < FOUR_GIB || addr - FOUR_GIB >= h.length) return -1;
    return addr - FOUR_GIB;
  }

  override readSlow(addr: number, size: number): number {
    let v: number;
    if (addr < FOUR_GIB || this.high === null) v = super.readSlow(addr, size);
    else {
      v = 0;
      for (let k = size - 1; k >= 0; k--) { const o = this.highOffset(addr + k); v = v * 256 + (o >= 0 ? this.high[o]! : 0xff); }
    }
    if (this.onWatchedAccess !== null && this.watched(addr, size, WATCH_READ)) this.onWatchedAccess(addr, size, false);
    if (addr < this.ram.length && (this.reasons[Math.floor(addr / PAGE)]! & ACCESS_LOG)) this.accessed(addr, size, false);
    return v;
  }

  override writeSlow(addr: number, size: number, value: number): void {
    this.beforeWrite(addr, size);
    if (addr < FOUR_GIB || this.high === null) { super.writeSlow(addr, size, value); return; }
    for (let k = 0; k < size; k++) { const o = this.highOffset(addr + k); if (o >= 0) this.high[o] = value & 0xff; value = Math.floor(value / 256); }
  }

  /** Load bytes at a physical address (the loader's writes). */
  load(addr: number, bytes: Uint8Array): void {
    const o = this.highOffset(addr);
    if (o >= 0 && o + bytes.length <= this.high!.length) { this.beforeWrite(addr, bytes.length); this.high!.set(bytes, o); return; }
    if (addr < 0 || addr + bytes.length > this.ram.length) throw new RangeError(`${bytes.length} bytes at 0x${addr.toString(16)} do not fit in ${this.ram.length} bytes of RAM`);
    this.beforeWrite(addr, bytes.length);
    this.markWritten(addr, bytes.length);
    this.ram.set(bytes, addr);
  }

  /**
   * Zero [addr, addr+len) as `load` of zeros would — the same hooks — but
   * store only into frames written before: for RAM the CPU has not run on
   * yet (the caller knows), the others are zero already. Touching tens of MB
   * of fresh RAM costs the host page faults the guest may never need (a
   * kernel segment's zero fill is most of its size).
   */
  zeroUnwritten(addr: number, len: number): void {
    if (addr < 0 || addr + len > this.ram.length) { this.load(addr, new Uint8Array(len)); return; }
    const end = addr + len, first = Math.floor(addr / PAGE);
    const written = this.hostWritten.slice(first, Math.ceil(end / PAGE));
    this.beforeWrite(addr, len);
    for (let k = 0; k < written.length; k++) {
      const f = first + k;
      if (written[k] === 1) this.ram.fill(0, Math.max(addr, f * PAGE), Math.min(end, (f + 1) * PAGE));
    }
  }

  override write(addr: number, bytes: Uint8Array): void {
    this.markWritten(addr, bytes.length);
    super.write(addr, bytes);
  }

  fill(addr: number, len: number, value = 0): void {
    if (addr < 0 || addr + len > this.ram.length) throw new RangeError(`0x${len.toString(16)} bytes at 0x${addr.toString(16)} do not fit in RAM`);
    this.beforeWrite(addr, len);
    this.markWritten(addr, len);
    this.ram.fill(value, addr, addr + len);
  }

  /** Bytes at a physical address; beyond RAM they read as all-ones, as on the bus. */
  override read(addr: number, len: number): Uint8Array {
    const o = this.highOffset(addr);
    if (o >= 0) return Uint8Array.from({ length: len }, (_, k) => (o + k < this.high!.length ? this.high![o + k]! : 0xff));
    const out = new Uint8Array(len).fill(0xff);
    const end = Math.min(addr + len, this.ram.length);
    if (addr < end) out.set(this.ram.subarray(addr, end), 0);
    return out;
  }

  /**
   * The bytes at a physical address as `read` gives them, but a view of RAM itself (no copy) when they are all in low
   * RAM: for readers that neither keep nor change them (the image check reads the whole kernel image).
   */
  view(addr: number, len: number): Uint8Array {
    return addr >= 0 && addr + len <= this.ram.length ? this.ram.subarray(addr, addr + len) : this.read(addr, len);
  }

  /** Is [addr, addr+len) RAM (low or high)? */
  isRam(addr: number, len: number): boolean {
    if (addr >= 0 && addr + len <= this.ram.length) return true;
    const o = this.highOffset(addr);
    return o >= 0 && o + len <= this.high!.length;
  }

  write32(addr: number, v: number): void { this.beforeWrite(addr, 4); this.markWritten(addr, 4); new DataView(this.ram.buffer).setUint32(addr, v >>> 0, true); }
  read32(addr: number): number { return new DataView(this.ram.buffer).getUint32(addr, true); }

  // ---- the write log (checkpoints) ------------------------------------------------

  /** From now on, save each frame's bytes before its first write (onFirstWrite). The CPU's TLB must be flushed after this. */
  armWriteLog(): void {
    const r = this.reasons;
    this.writeLogArmed = true;
    for (let f = 0; f < r.length; f++) { r[f] = r[f]! | LOGGED; this.refresh(f); }
    this.highLogged?.fill(1);
  }

  /** Stop logging (no frame is armed any more). */
  disarmWriteLog(): void {
    const r = this.reasons;
    for (let f = 0; f < r.length; f++) if (r[f]! & LOGGED) { r[f] = r[f]! & ~LOGGED; this.refresh(f); }
    this.highLogged?.fill(0);
    this.writeLogArmed = false;
  }

  /** Put a frame's bytes back (restoring a checkpoint): no log, no watch, no attribution. */
  restoreFrame(frame: number, bytes: Uint8Array): void {
    const addr = frame * PAGE;
    const o = this.highOffset(addr);
    if (o >= 0) this.high!.set(bytes, o);
    else { this.markWritten(addr, bytes.length); this.ram.set(bytes, addr); }
  }

  private markWritten(addr: number, len: number): void {
    if (len <= 0) return;
    const last = Math.min(Math.floor((addr + len - 1) / PAGE), this.hostWritten.length - 1);
    for (let f = Math.max(0, Math.floor(addr / PAGE)); f <= last; f++) this.hostWritten[f] = 1;
  }

  private beforeWrite(addr: number, len: number): void {
    if (len <= 0) return;
    const first = Math.floor(addr / PAGE), last = Math.floor((addr + len - 1) / PAGE);
    if (this.writeLogArmed) for (let f = first; f <= last; f++) {
      if (f < this.reasons.length) {
        if (this.reasons[f]! & LOGGED) {
          this.reasons[f] = this.reasons[f]! & ~LOGGED;
          this.refresh(f);
          this.onFirstWrite?.(f, this.ram.slice(f * PAGE, f * PAGE + PAGE));
        }
      } else if (this.highLogged !== null) {
        const h = f - FOUR_GIB / PAGE;
        if (h >= 0 && h < this.highLogged.length && this.highLogged[h] === 1) {
          this.highLogged[h] = 0;
          this.onFirstWrite?.(f, this.high!.slice(h * PAGE, h * PAGE + PAGE));
        }
      }
    }
    if (this.onWatchedAccess !== null && this.watched(addr, len, WATCH_WRITE)) this.onWatchedAccess(addr, len, true);
    if (this.accessLogArmed && addr < this.ram.length && (this.reasons[Math.floor(addr / PAGE)]! & (ACCESS_LOG | WRITE_LOG) || last !== first)) this.accessed(addr, len, true);
  }

  // ---- access logging (footprints) ----------------------------------------------------

  /** From now on report the first access to each low frame (onFirstAccess). The CPU's TLB must be flushed after this. */
  logAccesses(): void {
    const r = this.reasons;
    this.accessLogArmed = true;
    for (let f = 0; f < r.length; f++) { r[f] = (r[f]! & ~WRITE_LOG) | ACCESS_LOG; this.refresh(f); }
  }

  /** Stop reporting accesses. */
  stopLoggingAccesses(): void {
    const r = this.reasons;
    for (let f = 0; f < r.length; f++) if (r[f]! & (ACCESS_LOG | WRITE_LOG)) { r[f] = r[f]! & ~(ACCESS_LOG | WRITE_LOG); this.refresh(f); }
    this.accessLogArmed = false;
  }

  /** After a frame's first access was a read: report its first write too. */
  logFirstWrite(frame: number): void {
    if (frame >= this.reasons.length) return;
    this.accessLogArmed = true;
    this.reasons[frame] = this.reasons[frame]! | WRITE_LOG;
    this.refresh(frame);
  }

  private accessed(addr: number, len: number, write: boolean): void {
    const last = Math.min(Math.floor((addr + Math.max(len, 1) - 1) / PAGE), this.reasons.length - 1);
    const bits = write ? ACCESS_LOG | WRITE_LOG : ACCESS_LOG;
    for (let f = Math.floor(addr / PAGE); f <= last; f++) {
      if (!(this.reasons[f]! & bits)) continue;
      this.reasons[f] = this.reasons[f]! & ~bits;
      this.refresh(f);
      this.onFirstAccess?.(f, write);
    }
  }

  // ---- watchpoints ----------------------------------------------------------------

  /** Send reads and/or writes of the frames covering [addr, addr+len) through onWatchedAccess. */
  watchFrames(addr: number, len: number, read: boolean, write: boolean): void {
    const bits = (read ? WATCH_READ : 0) | (write ? WATCH_WRITE : 0);
    for (let f = Math.floor(addr / PAGE); f * PAGE < addr + len; f++) this.setWatch(f, bits);
  }

  /** Stop watching every frame. */
  clearWatches(): void {
    for (let f = 0; f < this.reasons.length; f++) if (this.reasons[f]! & (WATCH_READ | WATCH_WRITE)) { this.reasons[f] = this.reasons[f]! & ~(WATCH_READ | WATCH_WRITE); this.refresh(f); }
    this.highWatched?.fill(0);
  }

  private setWatch(f: number, bits: number): void {
    if (f < this.reasons.length) { this.reasons[f] = this.reasons[f]! | bits; this.refresh(f); return; }
    const h = f - FOUR_GIB / PAGE;
    if (this.highWatched !== null && h >= 0 && h < this.highWatched.length) this.highWatched[h] = this.highWatched[h]! | bits;
  }

  private watched(addr: number, len: number, bit: number): boolean {
    const first = Math.floor(addr / PAGE), last = Math.floor((addr + len - 1) / PAGE);
    for (let f = first; f <= last; f++) {
      if (f < this.reasons.length) { if (this.reasons[f]! & bit) return true; continue; }
      const h = f - FOUR_GIB / PAGE;
      if (this.highWatched !== null && h >= 0 && h < this.highWatched.length && (this.highWatched[h]! & bit)) return true;
    }
    return false;
  }

  /** Does a subclass need this frame's writes on the slow path (write provenance)? */
  protected keepsWritesSlow(_frame: number): boolean { return false; }

  /** Recompute a low frame's flags from its reasons. */
  protected refresh(f: number): void {
    const r = this.reasons[f]!;
    const write = (r & (LOGGED | WATCH_WRITE | ACCESS_LOG | WRITE_LOG)) !== 0 || this.keepsWritesSlow(f);
    this.frameFlags[f] = (write ? FRAME_WRITE_SLOW : 0) | ((r & (WATCH_READ | ACCESS_LOG)) ? FRAME_READ_SLOW : 0);
  }
}
