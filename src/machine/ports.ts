// The I/O port bus: devices register handlers for port ranges. Reads of an
// unclaimed port return all-ones and writes are dropped; both are logged.
import type { PortBus } from '../../emulator/index.ts';

export interface PortDevice {
  /** Read `size` bytes at `port` (an offset is port - base). */
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
}

export interface UnclaimedAccess { port: number; size: number; write: boolean; value: number }

export class Ports implements PortBus {
  private readonly map = new Map<number, PortDevice>();
  /** Accesses to ports no device claims (the first `logLimit`). */
  readonly unclaimed: UnclaimedAccess[] = [];
  unclaimedCount = 0;

  constructor(private readonly logLimit = 256) {}

  register(base: number, count: number, dev: PortDevice): void {
    for (let p = base; p < base + count; p++) {
      if (this.map.has(p)) throw new Error(`port 0x${p.toString(16)} is already claimed`);
      this.map.set(p, dev);
    }
  }

  private log(a: UnclaimedAccess): void {
    this.unclaimedCount++;
    if (this.unclaimed.length < this.logLimit) this.unclaimed.push(a);
  }

  portIn(port: number, size: number): number {
    const d = this.map.get(port);
    if (d) return d.read(port, size);
    this.log({ port, size, write: false, value: 0 });
    return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  }

  portOut(port: number, size: number, value: number): void {
    const d = this.map.get(port);
    if (d) { d.write(port, size, value); return; }
    this.log({ port, size, write: true, value });
  }
}
