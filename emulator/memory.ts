// The core's view of physical memory. The machine (src/) supplies an
// implementation; the core reads and writes RAM bytes directly on the fast
// path and calls read/write for everything else (MMIO, tracked frames).

/** Frame flag bits, one byte per 4 KiB physical frame of `ram`. */
export const FRAME_READ_SLOW = 1; // reads must call PhysicalMemory.read (MMIO, watchpoints)
export const FRAME_WRITE_SLOW = 2; // writes must call PhysicalMemory.write (provenance, stale Xen frames, watchpoints)

export interface PhysicalMemory {
  /** Bytes of physical memory [0, ram.length) that are plain RAM on the fast path. */
  readonly ram: Uint8Array;
  /** One byte per 4 KiB frame of `ram`: FRAME_* bits. Frames with bits set take the slow path. */
  readonly frameFlags: Uint8Array;
  /** Slow-path read of 1, 2 or 4 bytes at a physical address (little-endian, unsigned result). */
  readSlow(addr: number, size: number): number;
  /** Slow-path write of 1, 2 or 4 bytes at a physical address. */
  writeSlow(addr: number, size: number, value: number): void;
}

/**
 * Flat RAM from physical address 0, nothing else: for tests and embedding.
 * Reads beyond RAM return all-ones; writes beyond RAM are dropped.
 */
export class FlatMemory implements PhysicalMemory {
  readonly ram: Uint8Array;
  readonly frameFlags: Uint8Array;
  /** `ram`, when given, is used as the RAM (`size` bytes, e.g. a view into a WebAssembly.Memory); else it is allocated. */
  constructor(size: number, ram?: Uint8Array) {
    if (size <= 0 || size % 4096 !== 0) throw new RangeError(`FlatMemory size must be a positive multiple of 4096, got ${size}`);
    if (ram !== undefined && ram.length !== size) throw new RangeError(`FlatMemory: the RAM given has ${ram.length} bytes, not ${size}`);
    this.ram = ram ?? new Uint8Array(size);
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
      value >>>= 8;
    }
  }

  /** Copy bytes into RAM at a physical address. */
  write(addr: number, bytes: Uint8Array): void {
    if (addr < 0 || addr + bytes.length > this.ram.length) throw new RangeError(`write of ${bytes.length} bytes at 0x${addr.toString(16)} is outside RAM`);
    this.ram.set(bytes, addr);
  }

  /** Copy bytes out of RAM at a physical address. */
  read(addr: number, len: number): Uint8Array {
    if (addr < 0 || addr + len > this.ram.length) throw new RangeError(`read of ${len} bytes at 0x${addr.toString(16)} is outside RAM`);
    return this.ram.slice(addr, addr + len);
  }
}
