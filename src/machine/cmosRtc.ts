// CMOS RAM and the real-time clock (index 0x70, data 0x71). The time is a
// fixed instant (from the machine's options) advanced by the virtual clock,
// in BCD as the status registers say; bit 7 of the index masks NMI.
import type { PortDevice } from './ports.ts';
import { nanoseconds, type Clock } from './clock.ts';

function bcd(v: number): number { return ((Math.floor(v / 10) % 10) << 4) | (v % 10); }

export class CmosRtc implements PortDevice {
  private index = 0;
  readonly nvram = new Uint8Array(128);
  nmiMasked = false;

  /** `epochSeconds`: the wall-clock time at instruction 0 (seconds since 1970, UTC). */
  constructor(private readonly clock: Clock, private readonly epochSeconds: number) {
    this.nvram[0x0a] = 0x26; // 32.768 kHz time base, 1024 Hz rate
    this.nvram[0x0b] = 0x02; // 24-hour, BCD
    this.nvram[0x0d] = 0x80; // valid RAM and time
  }

  private timeRegister(r: number): number {
    const t = new Date((this.epochSeconds + Math.floor(nanoseconds(this.clock) / 1e9)) * 1000);
    const v = [t.getUTCSeconds(), 0, t.getUTCMinutes(), 0, t.getUTCHours(), 0, t.getUTCDay() + 1, t.getUTCDate(), t.getUTCMonth() + 1, t.getUTCFullYear() % 100][r]!;
    return (this.nvram[0x0b]! & 0x04) ? v : bcd(v);
  }

  read(port: number, _size: number): number {
    if (port === 0x70) return 0xff;
    const r = this.index;
    if (r <= 9 && r !== 1 && r !== 3 && r !== 5) return this.timeRegister(r);
    if (r === 0x32) return bcd(Math.floor(new Date((this.epochSeconds) * 1000).getUTCFullYear() / 100));
    if (r === 0x0c) return 0; // no interrupt flags pending
    return this.nvram[r]!;
  }

  write(port: number, _size: number, value: number): void {
    if (port === 0x70) { this.index = value & 0x7f; this.nmiMasked = (value & 0x80) !== 0; return; }
    if (this.index === 0x0c || this.index === 0x0d) return; // read-only status
    this.nvram[this.index] = value & 0xff;
  }
}
