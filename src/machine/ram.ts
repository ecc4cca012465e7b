// Guest RAM: the core's flat RAM (one Uint8Array from physical address 0
// with one flag byte per 4 KiB frame; reads beyond RAM return all-ones,
// writes beyond it are dropped), plus the loader-side helpers the machines use.
// RAM that does not fit below `lowLimit` (a Xen HVM guest's MMIO hole starts
// at 0xF0000000) continues at 4 GiB, served through the slow path: typed
// arrays stop at 4 GiB, and the core's fast path covers the low RAM.
import { FlatMemory } from '../../emulator/index.ts';

const FOUR_GIB = 0x100000000;

export class GuestRam extends FlatMemory {
  /** RAM from 4 GiB up, or null. */
  readonly high: Uint8Array | null;

  constructor(readonly size: number, lowLimit = size) {
    super(Math.min(size, lowLimit));
    this.high = size > lowLimit ? new Uint8Array(size - lowLimit) : null;
  }

  /** The high-RAM array offset of a physical address, or -1. */
  private highOffset(addr: number): number {
    const h = this.high;
    if (h === null || addr < FOUR_GIB || addr - FOUR_GIB >= h.length) return -1;
    return addr - FOUR_GIB;
  }

  override readSlow(addr: number, size: number): number {
    if (addr < FOUR_GIB || this.high === null) return super.readSlow(addr, size);
    let v = 0;
    for (let k = size - 1; k >= 0; k--) { const o = this.highOffset(addr + k); v = v * 256 + (o >= 0 ? this.high[o]! : 0xff); }
    return v;
  }

  override writeSlow(addr: number, size: number, value: number): void {
    if (addr < FOUR_GIB || this.high === null) { super.writeSlow(addr, size, value); return; }
    for (let k = 0; k < size; k++) { const o = this.highOffset(addr + k); if (o >= 0) this.high[o] = value & 0xff; value = Math.floor(value / 256); }
  }

  /** Load bytes at a physical address (the loader's writes). */
  load(addr: number, bytes: Uint8Array): void {
    const o = this.highOffset(addr);
    if (o >= 0 && o + bytes.length <= this.high!.length) { this.high!.set(bytes, o); return; }
    if (addr < 0 || addr + bytes.length > this.ram.length) throw new RangeError(`${bytes.length} bytes at 0x${addr.toString(16)} do not fit in ${this.ram.length} bytes of RAM`);
    this.ram.set(bytes, addr);
  }

  fill(addr: number, len: number, value = 0): void {
    if (addr < 0 || addr + len > this.ram.length) throw new RangeError(`0x${len.toString(16)} bytes at 0x${addr.toString(16)} do not fit in RAM`);
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

  write32(addr: number, v: number): void { new DataView(this.ram.buffer).setUint32(addr, v >>> 0, true); }
  read32(addr: number): number { return new DataView(this.ram.buffer).getUint32(addr, true); }
}
