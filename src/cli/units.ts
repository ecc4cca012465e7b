// Numbers on the command line: sizes with K/M/G suffixes, counts in decimal or hex.
import { UsageError } from './errors.ts';

export function parseCount(s: string, flag: string): number {
  const t = s.replace(/_/g, '');
  const v = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : /^\d+(\.\d+)?e\d+$/i.test(t) ? Number(t) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`${flag}: not a non-negative integer: ${s}`);
  return v;
}

export function parseSize(s: string, flag: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`${flag}: not a size (e.g. 1G, 512M, 1073741824): ${s}`);
  const mult = { k: 1 << 10, m: 1 << 20, g: 1 << 30 }[(m[2] ?? '').charAt(0).toLowerCase()] ?? 1;
  const v = Number(m[1]) * mult;
  if (v % 4096 !== 0 || v < 16 << 20) throw new UsageError(`${flag}: RAM must be a multiple of 4 KiB and at least 16 MiB: ${s}`);
  return v;
}
