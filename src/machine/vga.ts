// VGA: the register file behind ports 0x3c0-0x3df (purgatory's
// x86_reset_vga programs it) and the text screen at 0xB8000, read out of
// guest RAM as 80x25 characters.
import type { PortDevice } from './ports.ts';

export const VGA_TEXT_BASE = 0xb8000;

export class VgaPorts implements PortDevice {
  readonly crtc = new Uint8Array(256);
  readonly seq = new Uint8Array(256);
  readonly gfx = new Uint8Array(256);
  readonly attr = new Uint8Array(32);
  readonly dac = new Uint8Array(768);
  misc = 0x67;
  private crtcIndex = 0; private seqIndex = 0; private gfxIndex = 0; private attrIndex = 0;
  private attrFlip = false;
  private dacWrite = 0; private dacRead = 0;

  read(port: number, _size: number): number {
    switch (port) {
      case 0x3c1: return this.attr[this.attrIndex & 0x1f]!;
      case 0x3c4: return this.seqIndex;
      case 0x3c5: return this.seq[this.seqIndex]!;
      case 0x3c9: return this.dac[this.dacRead++ % 768]!;
      case 0x3cc: return this.misc;
      case 0x3ce: return this.gfxIndex;
      case 0x3cf: return this.gfx[this.gfxIndex]!;
      case 0x3d4: case 0x3b4: return this.crtcIndex;
      case 0x3d5: case 0x3b5: return this.crtc[this.crtcIndex]!;
      case 0x3da: case 0x3ba: this.attrFlip = false; return 0x09; // retrace bits toggle nothing: report "in retrace"
      default: return 0xff;
    }
  }

  write(port: number, size: number, value: number): void {
    if (size === 2) { this.write(port, 1, value & 0xff); this.write(port + 1, 1, (value >> 8) & 0xff); return; }
    value &= 0xff;
    switch (port) {
      case 0x3c0:
        if (!this.attrFlip) this.attrIndex = value; else this.attr[this.attrIndex & 0x1f] = value;
        this.attrFlip = !this.attrFlip; return;
      case 0x3c2: this.misc = value; return;
      case 0x3c4: this.seqIndex = value; return;
      case 0x3c5: this.seq[this.seqIndex] = value; return;
      case 0x3c7: this.dacRead = value * 3; return;
      case 0x3c8: this.dacWrite = value * 3; return;
      case 0x3c9: this.dac[this.dacWrite++ % 768] = value; return;
      case 0x3ce: this.gfxIndex = value; return;
      case 0x3cf: this.gfx[this.gfxIndex] = value; return;
      case 0x3d4: case 0x3b4: this.crtcIndex = value; return;
      case 0x3d5: case 0x3b5: this.crtc[this.crtcIndex] = value; return;
      default: return;
    }
  }
}

/** The 80x25 text screen in guest memory as lines (trailing blanks trimmed, empty trailing lines dropped). */
export function renderTextScreen(read: (addr: number, len: number) => Uint8Array): string[] {
  const mem = read(VGA_TEXT_BASE, 80 * 25 * 2);
  const lines: string[] = [];
  for (let row = 0; row < 25; row++) {
    let s = '';
    for (let col = 0; col < 80; col++) {
      const ch = mem[(row * 80 + col) * 2]!;
      s += ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : ' ';
    }
    lines.push(s.trimEnd());
  }
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
