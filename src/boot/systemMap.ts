// System.map: `nm -n`-style lines "<hex address> <type letter> <name>" that
// the kernel build writes next to vmlinux.
import { InputError } from '../errors.ts';

export interface MapSymbol {
  address: bigint;
  /** nm's type letter: T/t text, D/d data, B/b bss, R/r rodata, A/a absolute, ... */
  type: string;
  name: string;
}

export function parseSystemMap(text: string, file: string): MapSymbol[] {
  const out: MapSymbol[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const m = /^([0-9a-fA-F]{1,16}) (\S) (\S+)$/.exec(line);
    if (!m) throw new InputError(`${file}:${i + 1}: not a System.map line: ${JSON.stringify(line.slice(0, 80))}`);
    out.push({ address: BigInt('0x' + m[1]), type: m[2]!, name: m[3]! });
  }
  return out;
}

/** name -> address, first occurrence wins (static symbols can repeat). */
export function symbolIndex(symbols: { name: string; address: bigint }[]): Map<string, bigint> {
  const map = new Map<string, bigint>();
  for (const s of symbols) if (!map.has(s.name)) map.set(s.name, s.address);
  return map;
}
