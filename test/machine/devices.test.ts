// The legacy devices the boot path touches, driven through their ports.
import { describe, it, expect } from 'vitest';
import { Pit8254 } from '../../src/machine/pit8254.ts';
import { Pic8259Pair } from '../../src/machine/pic8259.ts';
import { CmosRtc } from '../../src/machine/cmosRtc.ts';
import { VgaPorts, renderTextScreen, VGA_TEXT_BASE } from '../../src/machine/vga.ts';
import { EventScheduler } from '../../src/machine/clock.ts';

function fakeClock() { const c = { t: 0, now: () => c.t }; return c; }

describe('8254 PIT', () => {
  it('counts down at 1.193182 MHz of virtual time and latches for the kaslr read sequence', () => {
    const clock = fakeClock();
    const pit = new Pit8254(clock);
    pit.write(0x43, 1, 0x34); // channel 0, lo/hi, mode 2
    pit.write(0x40, 1, 0x00); pit.write(0x40, 1, 0x00); // reload 65536
    clock.t = 1_000_000; // 1 ms at 1 instruction per ns → 1193 ticks
    pit.write(0x43, 1, 0x00); // latch channel 0
    clock.t = 5_000_000; // later reads still see the latched value
    const v = pit.read(0x40, 1) | (pit.read(0x40, 1) << 8);
    expect(v).toBe(65536 - 1193);
    const again = pit.read(0x40, 1) | (pit.read(0x40, 1) << 8);
    expect(again).toBe(65536 - Math.floor(5e6 * 1_193_182 / 1e9) % 65536);
  });
});

describe('8259 PIC pair', () => {
  it('takes the initialisation sequence and reads back the masks', () => {
    const pic = new Pic8259Pair();
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0xfb], [0xa1, 0xff]] as const) pic.write(p, 1, v);
    expect(pic.master.vectorBase).toBe(0x20);
    expect(pic.slave.vectorBase).toBe(0x28);
    expect(pic.read(0x21, 1)).toBe(0xfb);
    expect(pic.read(0xa1, 1)).toBe(0xff);
  });
});

describe('CMOS RTC', () => {
  it('reports the configured time in BCD, advanced by the virtual clock', () => {
    const clock = fakeClock();
    const rtc = new CmosRtc(clock, Date.UTC(2012, 6, 20, 13, 59, 58) / 1000);
    const reg = (r: number) => { rtc.write(0x70, 1, r); return rtc.read(0x71, 1); };
    expect([reg(9), reg(8), reg(7), reg(4), reg(2), reg(0)]).toEqual([0x12, 0x07, 0x20, 0x13, 0x59, 0x58]);
    clock.t = 3e9; // three virtual seconds
    expect([reg(4), reg(2), reg(0)]).toEqual([0x14, 0x00, 0x01]);
  });
});

describe('VGA', () => {
  it('renders the text screen from guest memory', () => {
    const mem = new Uint8Array(0x100000);
    const text = "I'm in purgatory";
    for (let k = 0; k < text.length; k++) { mem[VGA_TEXT_BASE + 2 * k] = text.charCodeAt(k); mem[VGA_TEXT_BASE + 2 * k + 1] = 7; }
    expect(renderTextScreen((a, n) => mem.subarray(a, a + n))).toEqual([text]);
    const vga = new VgaPorts();
    vga.write(0x3d4, 1, 0x0e); vga.write(0x3d5, 1, 0x12);
    expect(vga.read(0x3d5, 1)).toBe(0x12);
  });
});

describe('event scheduler', () => {
  it('runs events in time order, ties in insertion order', () => {
    const clock = fakeClock();
    const s = new EventScheduler(clock);
    const log: string[] = [];
    s.at(20, () => log.push('b')); s.at(10, () => log.push('a')); s.at(20, () => log.push('c'));
    clock.t = 15; s.runDue(); expect(log).toEqual(['a']);
    expect(s.next()).toBe(20);
    clock.t = 20; s.runDue(); expect(log).toEqual(['a', 'b', 'c']);
  });
});
