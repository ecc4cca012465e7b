// Compare a host result with a core result under a case's masks.

import type { Case } from './generate.ts';
import { CF, PF, AF, ZF, SF, TF, IF, DF, OF, NT, RF, VM, AC, VIF, VIP, ID, DATA_WIN, OUT_SIZE, REG_NAMES, STACK_WIN, WIN_SIZE, readScratch } from './layout.ts';

const FULL = (1n << 64n) - 1n;
const FLAG_BITS: [number, string][] = [[CF, 'CF'], [2, 'bit1'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [TF, 'TF'], [IF, 'IF'], [DF, 'DF'], [OF, 'OF'],
  [0x1000, 'IOPL0'], [0x2000, 'IOPL1'], [NT, 'NT'], [RF, 'RF'], [VM, 'VM'], [AC, 'AC'], [VIF, 'VIF'], [VIP, 'VIP'], [ID, 'ID']];

/** Names of the RFLAGS bits set in `bits` (reserved bits as 'bitN'). */
export function flagNames(bits: number): string {
  const names: string[] = [];
  for (let b = 0; b < 32; b++) {
    const m = (1 << b) >>> 0;
    if (!((bits >>> 0) & m)) continue;
    names.push(FLAG_BITS.find(([f]) => f === m)?.[1] ?? `bit${b}`);
  }
  return names.join(' ') || '-';
}
export function vectorName(v: number): string {
  return v === -1 ? 'ok' : v === -2 ? 'core threw' : (['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#9', '#TS', '#NP', '#SS', '#GP', '#PF'][v] ?? `#${v}`);
}
const hex = (v: bigint) => '0x' + v.toString(16);

/** Differences between host (expected) and core (actual); [] when they match. */
export function compareCase(c: Case, host: Buffer, hk: number, core: Buffer, ck: number): string[] {
  const h = hk * OUT_SIZE, k = ck * OUT_SIZE;
  const diffs: string[] = [];
  const hv = host.readInt32LE(h), kv = core.readInt32LE(k);
  if (hv !== kv) diffs.push(`exception: host ${vectorName(hv)} core ${vectorName(kv)}`);
  const hr = host.readBigUInt64LE(h + 136), kr = core.readBigUInt64LE(k + 136);
  if (hr !== kr) diffs.push(`rip: host ${hex(hr)} core ${hex(kr)}`);
  if (hv !== kv) return diffs;
  if (host.compare(core, k + 8, k + 136, h + 8, h + 136) !== 0) {
    for (let i = 0; i < 16; i++) {
      const m = c.masks.gpr[i] ?? FULL;
      const a = host.readBigUInt64LE(h + 8 + 8 * i), b = core.readBigUInt64LE(k + 8 + 8 * i);
      if ((a & m) !== (b & m)) diffs.push(`${REG_NAMES[i]}: host ${hex(a)} core ${hex(b)}`);
    }
  }
  const hf = host.readUInt32LE(h + 144), kf = core.readUInt32LE(k + 144);
  const fd = ((hf ^ kf) & c.masks.flags) >>> 0;
  if (fd) diffs.push(`flags: ${flagNames(fd)} differ (host ${flagNames(hf & c.masks.flags)}; core ${flagNames(kf & c.masks.flags)}; compared ${flagNames(c.masks.flags)})`);
  if (host.compare(core, k + 152, k + 408, h + 152, h + 408) !== 0) {
    for (let i = 0; i < 16; i++) {
      const a = host.subarray(h + 152 + 16 * i, h + 168 + 16 * i), b = core.subarray(k + 152 + 16 * i, k + 168 + 16 * i);
      if (a.compare(b) !== 0) diffs.push(`xmm${i}: host ${Buffer.from(a).reverse().toString('hex')} core ${Buffer.from(b).reverse().toString('hex')}`);
    }
  }
  for (const [name, base, off] of [['data', DATA_WIN, 408], ['stack', STACK_WIN, 664]] as const) {
    if (host.compare(core, k + off, k + off + WIN_SIZE, h + off, h + off + WIN_SIZE) === 0) continue;
    const bad: number[] = [];
    for (let i = 0; i < WIN_SIZE; i++) {
      const addr = base + i;
      if (host[h + off + i] === core[k + off + i]) continue;
      if (c.masks.mem.some(([a, n]) => addr >= a && addr < a + n)) continue;
      bad.push(i);
    }
    if (bad.length) {
      const lo = bad[0]!, hi = Math.min(bad[bad.length - 1]!, lo + 15);
      const seg = (b: Buffer, o: number) => b.subarray(o + lo, o + hi + 1).toString('hex');
      diffs.push(`memory ${name} ${bad.length} byte(s) from 0x${(base + lo).toString(16)}: host ${seg(host, h + off)} core ${seg(core, k + off)}`);
    }
  }
  // Every byte of the scratch area outside the windows (scratch.ts): changed bytes, where, and their hashes.
  const hs = readScratch(host, h), ks = readScratch(core, k);
  if (hs.count !== ks.count || hs.first !== ks.first || hs.last !== ks.last || hs.hashA !== ks.hashA || hs.hashB !== ks.hashB) {
    const desc = (s: typeof hs) => s.count ? `${s.count} byte(s) changed in 0x${s.first.toString(16)}..0x${s.last.toString(16)} (hash ${s.hashA.toString(16)}:${s.hashB.toString(16)})` : 'nothing changed';
    diffs.push(`memory outside the windows: host ${desc(hs)}; core ${desc(ks)}`);
  }
  return diffs;
}
