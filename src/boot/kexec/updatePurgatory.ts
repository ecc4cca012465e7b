// The last step of a kexec load (kexec/kexec.c update_purgatory, after the
// segments are sorted by address): arch_update_purgatory
// (kexec/arch/x86_64/kexec-x86_64.c) writes the console and backup variables,
// then a sha256 is taken over every segment except purgatory itself — each
// segment's buffer followed by zeros up to its memsz — and the regions
// (start, memsz) and the digest are written into sha256_regions /
// sha256_digest. With --no-checks (-i) only skip_checks = 1 is written.
import { createHash } from 'node:crypto';
import { InputError } from '../../errors.ts';
import type { LinkedPurgatory } from './purgatory.ts';
import type { Segment } from './placement.ts';

/** purgatory's SHA256_REGIONS (kexec/kexec-sha256.h): 16 × { u64 start; u64 len }. */
export const SHA256_REGIONS = 16;

export interface PurgatoryConsole {
  /** --console-serial: purgatory prints to a 16550. kexec's default is off. */
  consoleSerial: boolean;
  /** --console-vga: purgatory prints to VGA text memory. kexec's default is off. */
  consoleVga: boolean;
  /** --reset-vga. Default off. */
  resetVga: boolean;
  /** --serial: the UART's I/O base. Default 0x3f8. */
  serialBase: number;
  /** --serial-baud: 0 leaves the divisor alone (kexec's default). */
  serialBaud: number;
}

export const KEXEC_CONSOLE_DEFAULTS: PurgatoryConsole = { consoleSerial: false, consoleVga: false, resetVga: false, serialBase: 0x3f8, serialBaud: 0 };

export interface Sha256Region {
  start: number;
  len: number;
}

export interface PurgatoryDigest {
  regions: Sha256Region[];
  digest: Uint8Array;
}

/** arch_update_purgatory for a normal (not crash, not preserve-context) load. */
export function archUpdatePurgatory(p: LinkedPurgatory, c: PurgatoryConsole): void {
  p.setUint('reset_vga', c.resetVga ? 1 : 0);
  p.setUint('serial_base', c.serialBase);
  p.setUint('serial_baud', c.serialBaud);
  p.setUint('console_vga', c.consoleVga ? 1 : 0);
  p.setUint('console_serial', c.consoleSerial ? 1 : 0);
  p.setUint('backup_src_start', 0);
  p.setUint('backup_src_size', 0);
  p.setUint('panic_kernel', 0);
}

/** The digest update_purgatory computes over `sorted` (segments in address order). */
export function segmentDigest(sorted: readonly Segment[], purgatoryBase: number): PurgatoryDigest {
  const h = createHash('sha256');
  const regions: Sha256Region[] = [];
  const zeros = new Uint8Array(65536);
  for (const s of sorted) {
    if (s.mem === purgatoryBase) continue;
    h.update(s.bytes);
    for (let left = s.memsz - s.bytes.length; left > 0; left -= Math.min(left, zeros.length)) h.update(zeros.subarray(0, Math.min(left, zeros.length)));
    regions.push({ start: s.mem, len: s.memsz });
  }
  if (regions.length > SHA256_REGIONS) throw new InputError(`kexec load: ${regions.length} segments to checksum, more than purgatory's ${SHA256_REGIONS} sha256_regions`);
  return { regions, digest: new Uint8Array(h.digest()) };
}

/** update_purgatory: console variables, then sha256_regions and sha256_digest (or skip_checks). */
export function updatePurgatory(p: LinkedPurgatory, sorted: readonly Segment[], c: PurgatoryConsole, skipChecks: boolean): PurgatoryDigest | null {
  archUpdatePurgatory(p, c);
  if (skipChecks) {
    p.setUint('skip_checks', 1);
    return null;
  }
  const d = segmentDigest(sorted, p.base);
  const table = new Uint8Array(SHA256_REGIONS * 16);
  const dv = new DataView(table.buffer);
  d.regions.forEach((r, i) => {
    dv.setBigUint64(i * 16, BigInt(r.start), true);
    dv.setBigUint64(i * 16 + 8, BigInt(r.len), true);
  });
  p.set('sha256_regions', table);
  p.set('sha256_digest', d.digest);
  return d;
}
