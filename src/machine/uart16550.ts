// A 16550 UART, transmit side: bytes written to THR are collected (and
// passed to a sink); LSR always reports the transmitter empty. The divisor
// latch, IER, LCR, MCR and scratch registers read back what was written.
import type { PortDevice } from './ports.ts';

const LSR_THRE = 0x20, LSR_TEMT = 0x40;

export class Uart16550 implements PortDevice {
  private readonly out: number[] = [];
  private ier = 0; private lcr = 0; private mcr = 0; private scr = 0; private dll = 0; private dlm = 0;

  constructor(readonly base = 0x3f8, private readonly sink?: (byte: number) => void) {}

  read(port: number, _size: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (port - this.base) {
      case 0: return dlab ? this.dll : 0; // RBR: nothing is ever received
      case 1: return dlab ? this.dlm : this.ier;
      case 2: return 0x01; // IIR: no interrupt pending
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: return LSR_THRE | LSR_TEMT;
      case 6: return 0xb0; // MSR: CTS DSR DCD
      default: return this.scr;
    }
  }

  write(port: number, _size: number, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & 0x80) !== 0;
    switch (port - this.base) {
      case 0:
        if (dlab) { this.dll = v; return; }
        this.out.push(v);
        this.sink?.(v);
        return;
      case 1: if (dlab) this.dlm = v; else this.ier = v & 0x0f; return;
      case 3: this.lcr = v; return;
      case 4: this.mcr = v; return;
      case 7: this.scr = v; return;
    }
  }

  /** Everything transmitted so far. */
  /** Bytes transmitted so far. */
  get length(): number { return this.out.length; }
  bytes(): Uint8Array { return Uint8Array.from(this.out); }
  text(): string { return Buffer.from(this.out).toString('latin1'); }
}
