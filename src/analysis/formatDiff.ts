// The image check for humans: how many bytes were compared, where vmlinux
// sits displaced (shifts first), and which other ranges differ, named by symbol.
import type { ImageDiff } from './imageDiff.ts';

const hex = (b: Uint8Array) => Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > 16 ? ' …' : '');

/** The image diff for a terminal: identical, or the shifted runs and the differing ranges (at most `maxRanges`), named by symbol. */
export function formatImageDiff(d: ImageDiff, maxRanges = 20): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (d.bytesDiffering === 0) return `image:   ${n(d.bytesCompared)} bytes of vmlinux's PT_LOAD segments compared at the jump to startup_64: identical`;
  const shifts = d.shifts ?? [];
  const shifted = shifts.length ? `; ${n(d.bytesShifted)} of them are vmlinux displaced, in ${n(shifts.length)} shifted run(s), the rest` : ',';
  const L = [`image:   ${n(d.bytesDiffering)} of ${n(d.bytesCompared)} bytes differ from vmlinux (relocated by 0x${d.virtDelta.toString(16)})${shifted} in ${n(d.ranges.length)} range(s):`];
  const off = (p: number) => `+0x${(p - d.outputPhys).toString(16)}`;
  for (const g of groupShifts(shifts)) {
    const s = g[0]!, last = g[g.length - 1]!, explained = g.reduce((a, x) => a + x.bytesExplained, 0);
    const runs = g.length > 1 ? `${g.length} runs with bytes between them that differ otherwise; ` : '';
    L.push(`  ${off(s.phys)}..${off(last.phys + last.length)}: vmlinux shifted by ${s.shift > 0 ? '+' : '-'}${Math.abs(s.shift)} bytes  (${runs}phys 0x${s.phys.toString(16)}, ${s.where}; holds ${s.from}; ${n(explained)} differing bytes)`);
  }
  for (const r of d.ranges.slice(0, maxRanges)) {
    L.push(`  phys 0x${r.phys.toString(16)} +${r.length}  ${r.where}`);
    L.push(`    vmlinux: ${hex(r.expected)}`);
    L.push(`    RAM:     ${hex(r.actual)}`);
  }
  if (d.ranges.length > maxRanges) L.push(`  … ${d.ranges.length - maxRanges} more`);
  return L.join('\n');
}

/** Gap (bytes) across which runs of the same shift print as one line. */
const GROUP_GAP = 4096;

/**
 * Consecutive runs of the same shift with short gaps, as one group: after a
 * decompressor's output went wrong, its matches that reach back across that
 * point copy wrong bytes into the shifted stretch, breaking it into many runs.
 */
function groupShifts<T extends { phys: number; length: number; shift: number }>(shifts: T[]): T[][] {
  const groups: T[][] = [];
  for (const s of shifts) {
    const g = groups[groups.length - 1], prev = g?.[g.length - 1];
    if (g && prev && prev.shift === s.shift && s.phys - (prev.phys + prev.length) <= GROUP_GAP) g.push(s);
    else groups.push([s]);
  }
  return groups;
}
