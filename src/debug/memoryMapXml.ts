// The memory map gdb reads with qXfer:memory-map:read, from the target's regions.
import type { MemoryRegion } from './target.ts';

export function memoryMapXml(regions: readonly MemoryRegion[]): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory Map V1.0//EN" "http://sourceware.org/gdb/gdb-memory-map.dtd">',
    '<memory-map>',
    ...regions.map((r) => `  <memory type="${r.type}" start="0x${r.start.toString(16)}" length="0x${r.length.toString(16)}"/>`),
    '</memory-map>',
    '',
  ].join('\n');
}
