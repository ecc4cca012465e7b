// The 8254 programmable interval timer (ports 0x40-0x43), counting on the
// virtual clock at 1.193182 MHz. The decompressor reads channel 0 for KASLR
// entropy (i8254() in arch/x86/lib/kaslr.c: latch, then read low and high
// bytes); the values it sees are a function of the instruction count only.
import type { PortDevice } from './ports.ts';
import { nanoseconds, type Clock } from './clock.ts';

const PIT_HZ = 1_193_182;

class Channel {
  reload = 0x10000;
  mode = 0;
  access = 3; // 1 low byte, 2 high byte, 3 low then high
  /** Instruction count when the reload value was written. */
  start = 0;
  latched: number | null = null;
  readHigh = false;
  writeHigh = false;
  pendingLow = 0;
}

export class Pit8254 implements PortDevice {
  private readonly ch = [new Channel(), new Channel(), new Channel()];

  constructor(private readonly clock: Clock) {}

  private ticks(c: Channel): number {
    return Math.floor(((nanoseconds(this.clock) - c.start) * PIT_HZ) / 1e9);
  }

  /** The current count of a channel. */
  count(n: number): number {
    const c = this.ch[n]!;
    const t = this.ticks(c);
    if (c.mode === 2 || c.mode === 3) return c.reload - (t % c.reload);
    return (c.reload - t) & 0xffff;
  }

  read(port: number, _size: number): number {
    if (port === 0x43) return 0xff;
    const c = this.ch[port - 0x40]!;
    const v = c.latched ?? this.count(port - 0x40);
    if (c.access === 1) { c.latched = null; return v & 0xff; }
    if (c.access === 2) { c.latched = null; return (v >> 8) & 0xff; }
    if (!c.readHigh) { c.readHigh = true; return v & 0xff; }
    c.readHigh = false; c.latched = null;
    return (v >> 8) & 0xff;
  }

  write(port: number, _size: number, value: number): void {
    value &= 0xff;
    if (port === 0x43) {
      const sel = value >> 6;
      if (sel === 3) { // read-back: latch the selected counts
        for (let n = 0; n < 3; n++) if ((value & (2 << n)) && !(value & 0x20)) this.ch[n]!.latched = this.count(n);
        return;
      }
      const c = this.ch[sel]!;
      const access = (value >> 4) & 3;
      if (access === 0) { c.latched = this.count(sel); c.readHigh = false; return; }
      c.access = access; c.mode = (value >> 1) & 7; if (c.mode > 5) c.mode -= 4;
      c.readHigh = false; c.writeHigh = false; c.latched = null;
      return;
    }
    const c = this.ch[port - 0x40]!;
    const load = (v: number) => { c.reload = v === 0 ? 0x10000 : v; c.start = nanoseconds(this.clock); };
    if (c.access === 1) load(value);
    else if (c.access === 2) load(value << 8);
    else if (!c.writeHigh) { c.pendingLow = value; c.writeHigh = true; }
    else { c.writeHigh = false; load(c.pendingLow | (value << 8)); }
  }
}
