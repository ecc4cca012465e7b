// The 8259A interrupt controller pair (0x20-0x21 master, 0xa0-0xa1 slave).
// Purgatory's x86_setup_legacy_pic programs both with the initialisation
// sequence; we keep the state it sets (vector bases, masks, cascade) so it
// reads back correctly. No device raises interrupts on the boot path yet.
import type { PortDevice } from './ports.ts';

class Pic {
  imr = 0xff;
  irr = 0;
  isr = 0;
  vectorBase = 0;
  /** Which initialisation word comes next (0: none, 2..4). */
  icwStep = 0;
  needIcw4 = false;
  readIsr = false;
  icw3 = 0;
  icw4 = 0;

  read(offset: number): number {
    if (offset === 1) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  write(offset: number, v: number): void {
    if (offset === 0) {
      if (v & 0x10) { // ICW1
        this.icwStep = 2; this.needIcw4 = (v & 1) !== 0; this.imr = 0; this.isr = 0; this.irr = 0; this.readIsr = false;
        return;
      }
      if (v & 0x08) { // OCW3
        if (v & 0x02) this.readIsr = (v & 1) !== 0;
        return;
      }
      // OCW2: end of interrupt
      if ((v & 0xe0) === 0x20) { const hi = this.isr & -this.isr; this.isr &= ~hi; }
      else if ((v & 0xe0) === 0x60) this.isr &= ~(1 << (v & 7));
      return;
    }
    switch (this.icwStep) {
      case 2: this.vectorBase = v & 0xf8; this.icwStep = 3; return;
      case 3: this.icw3 = v; this.icwStep = this.needIcw4 ? 4 : 0; return;
      case 4: this.icw4 = v; this.icwStep = 0; return;
      default: this.imr = v; // OCW1
    }
  }
}

export class Pic8259Pair implements PortDevice {
  readonly master = new Pic();
  readonly slave = new Pic();

  read(port: number, _size: number): number {
    return (port & 0x80 ? this.slave : this.master).read(port & 1);
  }

  write(port: number, _size: number, value: number): void {
    (port & 0x80 ? this.slave : this.master).write(port & 1, value & 0xff);
  }
}
