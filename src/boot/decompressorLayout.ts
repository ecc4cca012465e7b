// Where the decompressor (arch/x86/boot/compressed) lives during a boot: at
// kexec's load address first (startup_32/startup_64), then in the copy it
// makes of itself at the end of its buffer, where it runs extract_kernel
// with its heap, stack and page tables. Computed as compressed/head_64.S
// computes it, from the load plan and the decompressor's ELF (linked with
// startup_32 at 0).
import { loadPhysicalAddr } from './expectedImage.ts';
import type { LoadPlan } from './kexec/index.ts';
import type { Vmlinux } from './vmlinux.ts';
import { SymbolTable } from './symbolTable.ts';
import type { DecompressorSymbols } from './kernelSymbols.ts';

/** Where the decompressor runs: at kexec's load address, then (after its own copy) at the relocation target; offsets to add to its link addresses. */
export function decompressorPlacement(plan: LoadPlan, elf: Vmlinux, decompressor: Vmlinux): { loaded: bigint; relocated: bigint } | null {
  const sym = (n: string) => decompressor.symbols.find((s) => s.name === n)?.value;
  const startup32 = sym('startup_32'), end = sym('_end');
  if (startup32 === undefined || end === undefined) return null;
  const loadAddr = BigInt(plan.kernel.base);
  // rbp = load address aligned up to kernel_alignment, at least LOAD_PHYSICAL_ADDR;
  // rbx = rbp + init_size - rva(_end); the code is copied to rbx and continues at rva(.Lrelocated)(%rbx).
  const align = BigInt(plan.kernel.alignment);
  let rbp = (loadAddr + align - 1n) & ~(align - 1n);
  const lpa = loadPhysicalAddr(elf);
  if (rbp < lpa) rbp = lpa;
  const rbx = rbp + BigInt(plan.kernel.initSize) - (end - startup32);
  return { loaded: loadAddr - startup32, relocated: rbx - startup32 };
}

export interface DecompressorRegion { start: number; end: number; what: string }

/** The relocated decompressor's parts in guest-physical memory: head and compressed input, code, data, stack, heap, page tables. */
export function decompressorRegions(plan: LoadPlan, elf: Vmlinux, decompressor: Vmlinux): DecompressorRegion[] {
  const p = decompressorPlacement(plan, elf, decompressor);
  if (!p) return [];
  const sym = (n: string) => decompressor.symbols.find((s) => s.name === n)?.value;
  const parts: [string, string, string][] = [
    ['startup_32', '_text', 'decompressor head and compressed input'],
    ['_text', '_etext', 'decompressor code'],
    ['_rodata', '_erodata', 'decompressor rodata'],
    ['_data', '_edata', 'decompressor data'],
    ['boot_stack', 'boot_stack_end', 'decompressor stack'],
    ['boot_heap', '_ebss', 'decompressor heap'],
    ['_pgtable', '_epgtable', 'decompressor page tables'],
  ];
  const out: DecompressorRegion[] = [];
  for (const [a, b, what] of parts) {
    const x = sym(a), y = sym(b);
    if (x === undefined || y === undefined || y <= x) continue;
    out.push({ start: Number(x + p.relocated), end: Number(y + p.relocated), what });
  }
  return out;
}

/**
 * The decompressor's code symbols and its placement, for naming addresses
 * ("extract_kernel+0x1a3 (decompressor)"). Only code is named — its head and
 * text — so an address in the compressed input or the heap stays a number.
 */
export function decompressorSymbols(plan: LoadPlan, elf: Vmlinux, decompressor: Vmlinux): DecompressorSymbols | undefined {
  const p = decompressorPlacement(plan, elf, decompressor);
  const sym = (n: string) => decompressor.symbols.find((s) => s.name === n)?.value;
  const ehead = sym('_ehead'), text = sym('_text'), etext = sym('_etext'), end = sym('_end');
  if (!p || ehead === undefined || text === undefined || etext === undefined || end === undefined) return undefined;
  const isCode = (v: bigint) => v < ehead || (v >= text && v < etext);
  const code = decompressor.symbols.filter((s) => (s.type === 'func' || s.type === 'notype') && s.name !== '' && isCode(s.value));
  return { table: new SymbolTable(code), ...p, size: end, code: [[0n, ehead], [text, etext]] };
}
