// The new kernel's symbols, from the best source available: its vmlinux
// (ELF symbol table), a System.map, or the kallsyms tables inside the
// decompressed image (stock distro kernels ship no symbols).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.ts';
import { readVmlinuxSymbols } from './vmlinux.ts';
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

/** The file's bytes as read, not a copy: a vmlinux is tens of MB, and copying them cost a boot 65 ms of page faults before its first instruction. */
function readFile(path: string, what: string): Uint8Array {
  let b: Buffer;
  try { b = readFileSync(path); } catch (e) { throw new InputError(`${path}: cannot read ${what}: ${(e as Error).message}`); }
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A kernel's symbol file: its vmlinux or System.map, as named or found beside the bzImage; null: none (kallsyms then). */
export type SymbolFile = { vmlinux: string } | { systemMap: string } | null;

/** The symbol file of a kernel: `vmlinux` or `systemMap` when given; else a vmlinux or System.map next to the bzImage. */
export function symbolFile(opts: { vmlinux?: string; systemMap?: string; kernelPath?: string }): SymbolFile {
  if (opts.vmlinux) return { vmlinux: opts.vmlinux };
  if (opts.systemMap) return { systemMap: opts.systemMap };
  if (opts.kernelPath) {
    const dir = dirname(opts.kernelPath);
    if (existsSync(join(dir, 'vmlinux'))) return { vmlinux: join(dir, 'vmlinux') };
    if (existsSync(join(dir, 'System.map'))) return { systemMap: join(dir, 'System.map') };
  }
  return null;
}

/** The symbols of a vmlinux or System.map. */
export function symbolsFromFile(f: NonNullable<SymbolFile>): KernelSymbols {
  if ('vmlinux' in f) {
    const vmlinux = f.vmlinux;
    const symbols = readVmlinuxSymbols(vmlinux);
    if (symbols.length === 0) throw new InputError(`${vmlinux}: has no symbol table`);
    return { table: new SymbolTable(symbols), source: vmlinux, elfFile: vmlinux };
  }
  const systemMap = f.systemMap;
  const syms = parseSystemMap(Buffer.from(readFile(systemMap, 'System.map')).toString('latin1'), systemMap);
  return { table: new SymbolTable(syms.map((s): NamedAddress => ({ name: s.name, value: s.address, type: s.type }))), source: systemMap };
}

/** The symbols kallsyms gave (decoded from the image), or none and why. */
export function kallsymsSymbols(k: SymbolTable | { error: string }): KernelSymbols {
  if (k instanceof SymbolTable) return { table: k, source: 'kallsyms (decoded from the image)' };
  return { table: new SymbolTable([]), source: `none (${k.error})` };
}

/**
 * Symbols for a kernel: `vmlinux` or `systemMap` when given; else a
 * vmlinux or System.map next to the bzImage; else kallsyms in `elf`.
 */
export function kernelSymbols(opts: { vmlinux?: string; systemMap?: string; kernelPath?: string; elf: Uint8Array }): KernelSymbols {
  const f = symbolFile(opts);
  if (f) return symbolsFromFile(f);
  try {
    const k = findKallsyms(opts.elf);
    return kallsymsSymbols(new SymbolTable(k.symbols.map((s): NamedAddress => ({ name: s.name, value: s.address, type: s.type }))));
  } catch (e) {
    return kallsymsSymbols({ error: (e as Error).message });
  }
}
