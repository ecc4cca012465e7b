// QEMU's isa-debug-exit device: a write of v ends the run with exit status
// (v << 1) | 1, QEMU's convention, so codes compare with QEMU's directly.
import type { PortDevice } from './ports.ts';

export class DebugExit implements PortDevice {
  /** The exit status once the guest wrote the port, else null. */
  status: number | null = null;

  constructor(readonly base = 0xf4, private readonly onExit?: (status: number) => void) {}

  read(_port: number, size: number): number { return size === 1 ? 0xff : size === 2 ? 0xffff : -1; }

  write(_port: number, size: number, value: number): void {
    const v = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    this.status = ((v << 1) | 1) >>> 0;
    this.onExit?.(this.status);
  }
}
