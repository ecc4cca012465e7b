// Guest RAM: one Uint8Array from physical address 0 with one flag byte per
// 4 KiB frame (the core's fast path reads flags to decide when to call the
// slow path). Reads beyond RAM return all-ones, writes beyond it are dropped.
import type { PhysicalMemory } from '../../emulator/index.ts';

export class GuestRam implements PhysicalMemory {
  readonly ram: Uint8Array;
  readonly frameFlags: Uint8Array;

  constructor(readonly size: number) {
    if (size <= 0 || size % 4096 !== 0) throw new RangeError(`RAM size must be a positive multiple of 4096, got ${size}`);
    this.ram = new Uint8Array(size);
    this.frameFlags = new Uint8Array(size / 4096);
  }

  readSlow(addr: number, size: number): number {
    let v = 0;
    for (let k = size - 1; k >= 0; k--) {
      const a = addr + k;
      v = v * 256 + (a < this.ram.length ? this.ram[a]! : 0xff);
    }
    return v;
  }

  writeSlow(addr: number, size: number, value: number): void {
    for (let k = 0; k < size; k++) {
      const a = addr + k;
      if (a < this.ram.length) this.ram[a] = value & 0xff;
      value = Math.floor(value / 256);
    }
  }

  /** Load bytes at a physical address (the loader's writes). */
  load(addr: number, bytes: Uint8Array): void {
    if (addr < 0 || addr + bytes.length > this.ram.length) throw new RangeError(`${bytes.length} bytes at 0x${addr.toString(16)} do not fit in ${this.ram.length} bytes of RAM`);
    this.ram.set(bytes, addr);
  }

  fill(addr: number, len: number, value = 0): void {
    if (addr < 0 || addr + len > this.ram.length) throw new RangeError(`0x${len.toString(16)} bytes at 0x${addr.toString(16)} do not fit in RAM`);
    this.ram.fill(value, addr, addr + len);
  }

  read(addr: number, len: number): Uint8Array { return this.ram.slice(addr, addr + len); }
  write32(addr: number, v: number): void { new DataView(this.ram.buffer).setUint32(addr, v >>> 0, true); }
  read32(addr: number): number { return new DataView(this.ram.buffer).getUint32(addr, true); }
}
