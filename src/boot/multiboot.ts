// Multiboot (v1) loading, as QEMU's -kernel does it: find the header in the
// first 8 KiB, load a 32-bit ELF's PT_LOAD segments at their physical
// addresses (or the a.out-kludge ranges when header flag 16 is set), write a
// boot information structure, and leave the CPU as the specification says:
// 32-bit protected mode, flat segments, paging off, EAX = 0x2BADB002,
// EBX = the information structure.
import { Seg, CR0_PE, CR0_ET, type Cpu } from '../../emulator/index.ts';
import type { GuestRam } from '../machine/ram.ts';

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

export class MultibootError extends Error {}

export interface MultibootImage {
  entry: number;
  /** [start, end) physical ranges written (including bss). */
  ranges: [number, number][];
}

/** Where the loader puts its own structures (below the 1 MiB programs load at). */
const GDT_ADDR = 0x8000, MBI_ADDR = 0x9000;

function findHeader(dv: DataView): number {
  const end = Math.min(8192, dv.byteLength) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (dv.getUint32(off, true) !== MULTIBOOT_MAGIC) continue;
    const flags = dv.getUint32(off + 4, true), sum = dv.getUint32(off + 8, true);
    if (((MULTIBOOT_MAGIC + flags + sum) >>> 0) === 0) return off;
  }
  throw new MultibootError('no multiboot header in the first 8 KiB');
}

/** Load the image into RAM; returns the entry point and what was written. */
export function loadMultibootImage(ram: GuestRam, file: Uint8Array): MultibootImage {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const hdr = findHeader(dv);
  const flags = dv.getUint32(hdr + 4, true);
  if (flags & 0xfffc) throw new MultibootError(`unsupported required multiboot flags 0x${(flags & 0xffff).toString(16)}`);
  const ranges: [number, number][] = [];
  if (flags & 0x10000) {
    if (hdr + 32 > file.length) throw new MultibootError('the multiboot header\'s a.out kludge fields are cut off by the end of the file');
    const [headerAddr, loadAddr, loadEnd, bssEnd, entry] = [12, 16, 20, 24, 28].map((o) => dv.getUint32(hdr + o, true)) as [number, number, number, number, number];
    const fileOff = hdr - (headerAddr - loadAddr);
    const len = loadEnd ? loadEnd - loadAddr : file.length - fileOff;
    if (fileOff < 0 || len < 0 || fileOff + len > file.length) throw new MultibootError('a.out kludge addresses point outside the file');
    if (!ram.isRam(loadAddr, Math.max(1, Math.max(len, bssEnd - loadAddr)))) throw new MultibootError(`a.out kludge load range at 0x${loadAddr.toString(16)} does not fit in RAM`);
    ram.load(loadAddr, file.subarray(fileOff, fileOff + len));
    if (bssEnd > loadAddr + len) ram.fill(loadAddr + len, bssEnd - (loadAddr + len));
    ranges.push([loadAddr, Math.max(loadAddr + len, bssEnd)]);
    return { entry, ranges };
  }
  if (file.length < 52 || dv.getUint32(0, false) !== 0x7f454c46) throw new MultibootError('not an ELF file and no a.out kludge in the multiboot header');
  if (file[4] !== 1) throw new MultibootError('64-bit ELF: multiboot (like QEMU -kernel) needs a 32-bit ELF');
  if (file[5] !== 1) throw new MultibootError('big-endian ELF');
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true), phentsize = dv.getUint16(42, true), phnum = dv.getUint16(44, true);
  if (phnum > 0 && (phentsize < 32 || phoff + phnum * phentsize > file.length)) throw new MultibootError(`program headers (${phnum} of ${phentsize} bytes at 0x${phoff.toString(16)}) lie outside the file`);
  for (let k = 0; k < phnum; k++) {
    const p = phoff + k * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const off = dv.getUint32(p + 4, true), paddr = dv.getUint32(p + 12, true);
    const filesz = dv.getUint32(p + 16, true), memsz = dv.getUint32(p + 20, true);
    if (off + filesz > file.length) throw new MultibootError(`segment ${k} extends beyond the file`);
    if (filesz > memsz || !ram.isRam(paddr, Math.max(1, memsz))) throw new MultibootError(`segment ${k} (0x${memsz.toString(16)} bytes at 0x${paddr.toString(16)}) does not fit in the machine's ${ram.size >> 20} MiB of RAM`);
    ram.load(paddr, file.subarray(off, off + filesz));
    if (memsz > filesz) ram.fill(paddr + filesz, memsz - filesz);
    ranges.push([paddr, paddr + memsz]);
  }
  if (ranges.length === 0) throw new MultibootError('ELF has no loadable segments');
  return { entry, ranges };
}

/** Write a flat GDT and the boot information, and set the CPU to the multiboot entry state. */
export function enterMultiboot(cpu: Cpu, ram: GuestRam, image: MultibootImage): void {
  // GDT: null, null, 0x10 flat 32-bit code, 0x18 flat data.
  ram.load(GDT_ADDR, Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0]));
  // Boot information: flags bit 0 (mem_lower/mem_upper in KiB).
  ram.fill(MBI_ADDR, 0x60);
  ram.write32(MBI_ADDR, 1);
  ram.write32(MBI_ADDR + 4, 639);
  ram.write32(MBI_ADDR + 8, Math.floor((ram.size - 0x100000) / 1024));
  cpu.resetReal();
  cpu.lo.fill(0); cpu.hi.fill(0);
  cpu.cr0 = CR0_PE | CR0_ET;
  cpu.gdtrBaseLo = GDT_ADDR; cpu.gdtrBaseHi = 0; cpu.gdtrLimit = 0x1f;
  cpu.idtrBaseLo = 0; cpu.idtrLimit = 0x3ff;
  for (let s = 0; s < 6; s++) {
    if (s === Seg.CS) cpu.setSegmentRaw(s, 0x10, 0, 0, -1, 0xc09b);
    else cpu.setSegmentRaw(s, 0x18, 0, 0, -1, 0xc093);
  }
  cpu.setRflags(2);
  cpu.lo[0] = MULTIBOOT_BOOTLOADER_MAGIC | 0;
  cpu.lo[3] = MBI_ADDR;
  cpu.ripLo = image.entry | 0; cpu.ripHi = 0;
  cpu.updateMode();
  cpu.flushTlb();
  cpu.blocks.flush();
}
