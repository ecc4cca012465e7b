// Port 0x80, the POST/diagnostic port: Linux uses it for I/O delays; we
// record what was written (the last values) and otherwise ignore it.
import type { PortDevice } from './ports.ts';

export class PostPort implements PortDevice {
  writes = 0;
  last = 0;

  read(_port: number, _size: number): number { return 0xff; }

  write(_port: number, _size: number, value: number): void {
    this.writes++;
    this.last = value & 0xff;
  }
}
