// The new kernel's symbols, from the best source available: its vmlinux
// (ELF symbol table), a System.map, or the kallsyms tables inside the
// decompressed image (stock distro kernels ship no symbols).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.ts';
import { readVmlinux } from './vmlinux.ts';
import { parseSystemMap } from './systemMap.ts';
import { findKallsyms } from './kallsyms.ts';
import { SymbolTable, type NamedAddress } from './symbolTable.ts';

export interface KernelSymbols {
  table: SymbolTable;
  source: string;
  /** The vmlinux ELF the symbols came from, when they came from one (a debugger can load it). */
  elfFile?: string;
  /** The decompressor's own symbols, where its ELF is known (bundled kernels, --decompressor-elf). */
  decompressor?: DecompressorSymbols;
}

/** The decompressor's symbols (linked at startup_32 = 0) and where it runs: kexec's load address, then its relocated copy. */
export interface DecompressorSymbols {
  table: SymbolTable;
  /** Offsets to add to its link addresses: at the load address, and after it copied itself. */
  loaded: bigint;
  relocated: bigint;
  /** Bytes from startup_32 to _end. */
  size: bigint;
  /** Its code, as [start, end) link offsets (head and text): only addresses inside are named. */
  code: [bigint, bigint][];
}

function readFile(path: string, what: string): Uint8Array {
  try { return new Uint8Array(readFileSync(path)); } catch (e) { throw new InputError(`${path}: cannot read ${what}: ${(e as Error).message}`); }
}

/**
 * Symbols for a kernel: `vmlinux` or `systemMap` when given; else a
 * vmlinux or System.map next to the bzImage; else kallsyms in `elf`.
 */
export function kernelSymbols(opts: { vmlinux?: string; systemMap?: string; kernelPath?: string; elf: Uint8Array }): KernelSymbols {
  let vmlinux = opts.vmlinux, systemMap = opts.systemMap;
  if (!vmlinux && !systemMap && opts.kernelPath) {
    const dir = dirname(opts.kernelPath);
    if (existsSync(join(dir, 'vmlinux'))) vmlinux = join(dir, 'vmlinux');
    else if (existsSync(join(dir, 'System.map'))) systemMap = join(dir, 'System.map');
  }
  if (vmlinux) {
    const vm = readVmlinux(readFile(vmlinux, 'vmlinux'), vmlinux);
    if (vm.symbols.length === 0) throw new InputError(`${vmlinux}: has no symbol table`);
    return { table: new SymbolTable(vm.symbols), source: vmlinux, elfFile: vmlinux };
  }
  if (systemMap) {
    const syms = parseSystemMap(Buffer.from(readFile(systemMap, 'System.map')).toString('latin1'), systemMap);
    return { table: new SymbolTable(syms.map((s): NamedAddress => ({ name: s.name, value: s.address, type: s.type }))), source: systemMap };
  }
  try {
    const k = findKallsyms(opts.elf);
    return { table: new SymbolTable(k.symbols.map((s): NamedAddress => ({ name: s.name, value: s.address, type: s.type }))), source: 'kallsyms (decoded from the image)' };
  } catch (e) {
    return { table: new SymbolTable([]), source: `none (${(e as Error).message})` };
  }
}
