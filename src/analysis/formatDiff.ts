// The image check for humans: how many bytes were compared and which
// ranges differ, named by symbol.
import type { ImageDiff } from './imageDiff.ts';

const hex = (b: Uint8Array) => Array.from(b.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > 16 ? ' …' : '');

export function formatImageDiff(d: ImageDiff, maxRanges = 20): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (d.bytesDiffering === 0) return `image:   ${n(d.bytesCompared)} bytes of vmlinux's PT_LOAD segments compared at the jump to startup_64: identical`;
  const L = [`image:   ${n(d.bytesDiffering)} of ${n(d.bytesCompared)} bytes differ from vmlinux (relocated by 0x${d.virtDelta.toString(16)}), in ${n(d.ranges.length)} range(s):`];
  for (const r of d.ranges.slice(0, maxRanges)) {
    L.push(`  phys 0x${r.phys.toString(16)} +${r.length}  ${r.where}`);
    L.push(`    vmlinux: ${hex(r.expected)}`);
    L.push(`    RAM:     ${hex(r.actual)}`);
  }
  if (d.ranges.length > maxRanges) L.push(`  … ${d.ranges.length - maxRanges} more`);
  return L.join('\n');
}
