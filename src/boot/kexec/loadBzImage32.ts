// The legacy 32-bit entry: `kexec -l --entry-32bit bzImage` on x86_64 makes
// bzImage64_load call do_bzImage_load (kexec/arch/i386/kexec-bzImage.c);
// kexec also takes this path when the bzImage64 probe fails (no
// XLF_CAN_BE_LOADED_ABOVE_4G). It was the only x86_64 bzImage path before
// kexec-tools 2.0.4 (2013) — the path of the 2012 report. In its order:
// 1. purgatory top-down in [0x3000, 0x7fffffff] for a relocatable kernel
//    (x86_64 purgatory may carry R_X86_64_32S), else [0x3000, 640 KiB];
// 2. boot_params + command line: add_buffer(align 16, 0x3000 .. 640 KiB,
//    bottom-up) — and purgatory must lie above it;
// 3. the kernel: relocatable (protocol ≥ 2.05): add_buffer(bufsz = memsz =
//    file - kern16_size, align kernel_alignment, min 1 MiB,
//    max min(0x37FFFFFF, initrd_addr_max), bottom-up); else fixed at 1 MiB.
//    Note memsz is the file size, not init_size: the decompressor runs
//    from there and extracts at max(load address, LOAD_PHYSICAL_ADDR).
// 4. entry32_regs = { esi boot_params, esp stack_end, eip kernel (startup_32),
//    others 0 }; entry64_regs keeps rip = entry32 from the link, so
//    purgatory's entry64 drops to 32-bit mode through entry32;
// 5. cmdline_end, setup_linux_system_parameters as for bzImage64.
import { InputError } from '../../errors.ts';
import { bootParamsLayout, newRealModeBuffer, setupBootloaderParameters, setupSystemParameters } from './bootParams.ts';
import { placeKernel, placePurgatory, writeRegs32, type LoadInputs, type LoadResult } from './loadBzImage64.ts';

/** kexec's DEFAULT_BZIMAGE_ADDR_MAX. */
export const DEFAULT_BZIMAGE_ADDR_MAX = 0x37ffffff;
export const KERN32_BASE = 0x100000;

export function loadBzImage32(inp: LoadInputs): LoadResult {
  const { bz, table } = inp;
  const notes: string[] = [];
  const h = bz.header;
  const layout = bootParamsLayout(bz, inp.cmdline);
  const relocatable = h.version >= 0x0205 && h.relocatableKernel;
  const purgatory = placePurgatory(table, inp.purgatory, 0x3000, relocatable ? 0x7fffffff : 640 * 1024);
  const rm = newRealModeBuffer(bz, layout);
  const setup = table.addBuffer('boot_params + cmdline', rm, layout.setupSize, 16, 0x3000, 640 * 1024, 'bottom-up');
  if (purgatory.base < setup.mem) throw new InputError(`${bz.file}: could not put purgatory (0x${purgatory.base.toString(16)}) above the kernel parameters (0x${setup.mem.toString(16)})`);

  const kernelBytes = bz.data.subarray(layout.kern16Size);
  let kernelAddr: number;
  if (relocatable) {
    const max = Math.min(DEFAULT_BZIMAGE_ADDR_MAX, h.initrdAddrMax);
    const align = inp.kernelAlignment ?? h.kernelAlignment;
    kernelAddr = placeKernel(inp, kernelBytes, kernelBytes.length, align, KERN32_BASE, max, 'bottom-up').mem;
  } else {
    const fixed = typeof inp.placement === 'object' ? inp.placement.address : KERN32_BASE;
    kernelAddr = table.addSegment(`kernel (${bz.file})`, kernelBytes, fixed, kernelBytes.length).mem;
  }
  const kernel = table.segments.find((s) => s.mem === kernelAddr)!;

  setupBootloaderParameters(rm, setup.mem, layout);
  writeRegs32(purgatory, { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: setup.mem, edi: 0, esp: purgatory.symbol('stack_end').address, ebp: 0, eip: kernel.mem });
  const cmdlineEnd = setup.mem + layout.cmdlineOffset + layout.cmdline.length - 1;
  purgatory.setUint('cmdline_end', cmdlineEnd);
  setupSystemParameters(rm, inp.ranges, table, inp.first);
  if (kernel.mem + kernel.memsz > 2 ** 32) throw new InputError(`${bz.file}: 32-bit entry needs the kernel below 4 GiB`);
  notes.push('32-bit entry: purgatory entry64 → entry32 (compatibility mode, paging off, EFER.LME cleared, CR4 = 0) → startup_32 at the kernel\'s load address');
  return { purgatory, setup, kernel, layout, cmdlineEnd, notes };
}
