// gdb's add-symbol-file lines for every stage of a kexec boot, at the
// addresses this run uses: purgatory's relocatable object at the sections'
// load addresses; the decompressor's ELF (linked with startup_32 at 0) where
// kexec loaded it and where it relocates itself before extracting; vmlinux
// at the KASLR offset the decompressor chose and, for the identity-mapped
// start of startup_64, at its physical placement.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readVmlinux } from '../boot/vmlinux.ts';
import { readFileSync } from 'node:fs';
import { decompressorPlacement } from '../boot/decompressorLayout.ts';
import { BUNDLED_PURGATORY } from '../boot/kexec/index.ts';
import type { LoadPlan } from '../boot/kexec/index.ts';
import type { KernelEntry } from '../boot/phases.ts';
import type { Vmlinux } from '../boot/vmlinux.ts';

export interface SymbolFileInputs {
  plan: LoadPlan;
  /** The payload's vmlinux (for LOAD_PHYSICAL_ADDR). */
  elf: Vmlinux;
  purgatoryFile?: string;
  /** The decompressor's ELF (arch/x86/boot/compressed/vmlinux), when there is one. */
  decompressorElf?: string | null;
  /** The vmlinux ELF with symbols, when there is one. */
  vmlinuxFile?: string;
  kernelEntry: KernelEntry | null;
}

export interface SymbolFileLine { stage: string; command: string; note: string }

const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
/** An offset for add-symbol-file -o: gdb adds it modulo 2^64, so negative offsets are written as such. */
const off = (v: bigint) => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

export function symbolFileLines(input: SymbolFileInputs): SymbolFileLine[] {
  // Absolute paths: the printed gdb command works from any directory.
  const abs = (f: string | null | undefined) => (f ? resolve(f) : f);
  const i = { ...input, purgatoryFile: abs(input.purgatoryFile), decompressorElf: abs(input.decompressorElf), vmlinuxFile: abs(input.vmlinuxFile) ?? undefined };
  const out: SymbolFileLine[] = [];
  const pg = i.plan.purgatory;
  const text = pg.sections.find((s) => s.name === '.text');
  if (text) {
    const rest = pg.sections.filter((s) => s !== text && s.size > 0 && /^\.(data|rodata|bss)/.test(s.name)).map((s) => ` -s ${s.name} ${hex(s.addr)}`).join('');
    out.push({ stage: 'purgatory', command: `add-symbol-file ${i.purgatoryFile ?? BUNDLED_PURGATORY} ${hex(text.addr)}${rest}`, note: 'kexec-tools\' purgatory, relocated as kexec linked it' });
  }
  if (i.decompressorElf && existsSync(i.decompressorElf)) {
    const dec = readVmlinux(new Uint8Array(readFileSync(i.decompressorElf)), i.decompressorElf);
    const p = decompressorPlacement(i.plan, i.elf, dec);
    if (p) {
      out.push({ stage: 'decompressor (as loaded)', command: `add-symbol-file ${i.decompressorElf} -o ${off(p.loaded)}`, note: 'startup_32/startup_64 where kexec put the kernel' });
      out.push({ stage: 'decompressor (relocated)', command: `add-symbol-file ${i.decompressorElf} -o ${off(p.relocated)}`, note: 'the copy at the end of the buffer that runs extract_kernel' });
    }
  } else {
    out.push({ stage: 'decompressor', command: '', note: 'no decompressor ELF for this kernel (the bundled kernels ship one; pass --decompressor-elf for others)' });
  }
  if (i.vmlinuxFile) {
    const e = i.kernelEntry;
    if (e) {
      out.push({ stage: 'kernel', command: `add-symbol-file ${i.vmlinuxFile} -o ${off(e.virtDelta)}`, note: `vmlinux at its KASLR offset ${off(e.virtDelta)}` });
      const physOff = BigInt(e.outputPhys) - e.linkBase;
      out.push({ stage: 'kernel (identity-mapped start)', command: `add-symbol-file ${i.vmlinuxFile} -o ${off(BigInt.asIntN(64, physOff))}`, note: `startup_64 before the switch to the kernel mapping runs at physical ${hex(e.startup64Phys)}` });
    } else {
      out.push({ stage: 'kernel', command: '', note: 'the kernel\'s placement is known once the decompressor has chosen it (monitor symbols finds it by running ahead)' });
    }
  }
  return out;
}

export function formatSymbolFileLines(lines: SymbolFileLine[]): string {
  return lines.map((l) => (l.command ? `${l.command}\n    # ${l.stage}: ${l.note}` : `# ${l.stage}: ${l.note}`)).join('\n');
}
