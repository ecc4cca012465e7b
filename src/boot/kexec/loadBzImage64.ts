// `kexec -l bzImage --command-line=...` on x86_64 with kexec-tools 2.0.25:
// do_bzImage64_load (kexec/arch/x86_64/kexec-bzImage64.c), in its order:
// 1. purgatory: elf_rel_build_load(min 0x3000, max -1, top-down);
// 2. boot_params + command line: add_buffer(setup_size, align 16, min 0x3000,
//    max -1, top-down);
// 3. the kernel without its setup sectors: add_buffer(bufsz = file -
//    kern16_size, memsz = ALIGN(init_size, 4096), align kernel_alignment,
//    min 0x100000, max -1, top-down). (2.0.30 raised min to pref_address:
//    `honourPrefAddress`.)
// 4. setup_linux_bootloader_parameters_high; entry64_regs = { rbx 0,
//    rsi boot_params, rip kernel + 0x200, rsp stack_end, others as linked };
//    cmdline_end = boot_params + kern16_size_needed + cmdline_len - 1;
// 5. setup_linux_system_parameters (e820, screen defaults, RNG seed setup_data).
import { InputError } from '../../errors.ts';
import { XLF, type BzImage } from '../bzimage.ts';
import { bootParamsLayout, newRealModeBuffer, setupBootloaderParameters, setupSystemParameters, type BootParamsLayout, type FirstKernelInfo } from './bootParams.ts';
import type { MemoryRange } from './memoryMap.ts';
import { ADDR_MAX, PAGE_SIZE, type HoleDirection, type Segment, type SegmentTable } from './placement.ts';
import { layoutPurgatory, linkPurgatory, type LinkedPurgatory } from './purgatory.ts';
import type { ElfRelObject } from './elfRel.ts';

/** Where to put the kernel: kexec's choice for the entry path, a direction, or a fixed address. */
export type KernelPlacement = 'kexec' | HoleDirection | { address: number };

export interface LoadInputs {
  bz: BzImage;
  purgatory: ElfRelObject;
  cmdline: string;
  ranges: readonly MemoryRange[];
  table: SegmentTable;
  placement: KernelPlacement;
  /** Overrides the setup header's kernel_alignment. */
  kernelAlignment?: number;
  /** kexec-tools ≥ 2.0.30: the kernel's hole starts at max(1 MiB, pref_address). */
  honourPrefAddress?: boolean;
  first: FirstKernelInfo;
}

export interface Regs64 {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint; rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint; r12: bigint; r13: bigint; r14: bigint; r15: bigint; rip: bigint;
}
export interface Regs32 {
  eax: number; ebx: number; ecx: number; edx: number; esi: number; edi: number; esp: number; ebp: number; eip: number;
}
export const REGS64_ORDER = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as const;
export const REGS32_ORDER = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'esp', 'ebp', 'eip'] as const;

export interface LoadResult {
  purgatory: LinkedPurgatory;
  setup: Segment;
  kernel: Segment;
  layout: BootParamsLayout;
  cmdlineEnd: number;
  notes: string[];
}

/** Places and relocates purgatory in [min, max], top-down, as elf_rel_build_load + add_buffer do. */
export function placePurgatory(table: SegmentTable, obj: ElfRelObject, min: number, max: number): LinkedPurgatory {
  const layout = layoutPurgatory(obj);
  const memsz = Math.ceil(layout.memsz / PAGE_SIZE) * PAGE_SIZE;
  const base = table.locateHole(memsz, layout.align, min, max, 'top-down');
  if (base === null) throw new InputError(`${obj.file}: purgatory (0x${memsz.toString(16)} bytes) does not fit in guest RAM between 0x${min.toString(16)} and ${max >= ADDR_MAX ? 'the top' : '0x' + max.toString(16)}`);
  const p = linkPurgatory(obj, base);
  table.addSegment('purgatory', p.bytes, base, memsz);
  return p;
}

/** Adds the kernel segment by `placement` (kexecDirection when 'kexec'). */
export function placeKernel(inp: LoadInputs, bytes: Uint8Array, memsz: number, align: number, min: number, max: number, kexecDirection: HoleDirection): Segment {
  const name = `kernel (${inp.bz.file})`;
  const p = inp.placement;
  if (typeof p === 'object') {
    if (p.address % align) throw new InputError(`${inp.bz.file}: fixed kernel address 0x${p.address.toString(16)} is not aligned to kernel_alignment 0x${align.toString(16)}`);
    return inp.table.addSegment(name, bytes, p.address, memsz);
  }
  return inp.table.addBuffer(name, bytes, memsz, align, min, max, p === 'kexec' ? kexecDirection : p);
}

export function readRegs64(p: LinkedPurgatory): Regs64 {
  const b = p.get('entry64_regs', 17 * 8);
  const dv = new DataView(b.buffer);
  return Object.fromEntries(REGS64_ORDER.map((r, i) => [r, dv.getBigUint64(i * 8, true)])) as unknown as Regs64;
}

export function writeRegs64(p: LinkedPurgatory, regs: Regs64): void {
  const b = new Uint8Array(17 * 8);
  const dv = new DataView(b.buffer);
  REGS64_ORDER.forEach((r, i) => dv.setBigUint64(i * 8, regs[r], true));
  p.set('entry64_regs', b);
}

export function readRegs32(p: LinkedPurgatory): Regs32 {
  const b = p.get('entry32_regs', 9 * 4);
  const dv = new DataView(b.buffer);
  return Object.fromEntries(REGS32_ORDER.map((r, i) => [r, dv.getUint32(i * 4, true)])) as unknown as Regs32;
}

export function writeRegs32(p: LinkedPurgatory, regs: Regs32): void {
  const b = new Uint8Array(9 * 4);
  const dv = new DataView(b.buffer);
  REGS32_ORDER.forEach((r, i) => dv.setUint32(i * 4, regs[r] >>> 0, true));
  p.set('entry32_regs', b);
}

/** True when kexec's bzImage64 probe accepts the image (KERNEL_64 and CAN_BE_LOADED_ABOVE_4G). */
export function bzImage64Probe(bz: BzImage): boolean {
  return (bz.header.xloadflags & (XLF.KERNEL_64 | XLF.CAN_BE_LOADED_ABOVE_4G)) === (XLF.KERNEL_64 | XLF.CAN_BE_LOADED_ABOVE_4G);
}

export function loadBzImage64(inp: LoadInputs): LoadResult {
  const { bz, table } = inp;
  const notes: string[] = [];
  const layout = bootParamsLayout(bz, inp.cmdline);
  const purgatory = placePurgatory(table, inp.purgatory, 0x3000, ADDR_MAX);
  const rm = newRealModeBuffer(bz, layout);
  const setup = table.addBuffer('boot_params + cmdline', rm, layout.setupSize, 16, 0x3000, ADDR_MAX, 'top-down');

  const kernelBytes = bz.data.subarray(layout.kern16Size);
  const memsz = Math.ceil(bz.header.initSize / PAGE_SIZE) * PAGE_SIZE;
  const align = inp.kernelAlignment ?? bz.header.kernelAlignment;
  let min = 0x100000;
  if (inp.honourPrefAddress && Number(bz.header.prefAddress) > min) min = Number(bz.header.prefAddress);
  const kernel = placeKernel(inp, kernelBytes, memsz, align, min, ADDR_MAX, 'top-down');

  setupBootloaderParameters(rm, setup.mem, layout);
  const regs = readRegs64(purgatory);
  regs.rbx = 0n;
  regs.rsi = BigInt(setup.mem);
  regs.rip = BigInt(kernel.mem + bz.entry64Offset);
  regs.rsp = BigInt(purgatory.symbol('stack_end').address);
  writeRegs64(purgatory, regs);
  const cmdlineEnd = setup.mem + layout.cmdlineOffset + layout.cmdline.length - 1;
  purgatory.setUint('cmdline_end', cmdlineEnd);
  setupSystemParameters(rm, inp.ranges, table, inp.first);
  if (kernel.mem % 0x200000) notes.push(`kernel at 0x${kernel.mem.toString(16)} is not 2 MiB aligned; the decompressor rounds its output up to kernel_alignment`);
  return { purgatory, setup, kernel, layout, cmdlineEnd, notes };
}
