// Address → "symbol+0xoffset" for reports, from any symbol list.

export interface NamedAddress { name: string; value: bigint; size?: number; type?: string }

export class SymbolTable {
  private readonly sorted: NamedAddress[];
  private readonly byName = new Map<string, bigint>();

  constructor(symbols: Iterable<NamedAddress>) {
    const list: NamedAddress[] = [];
    for (const s of symbols) {
      if (!s.name || s.type === 'file' || s.type === 'section') continue;
      list.push(s);
      if (!this.byName.has(s.name)) this.byName.set(s.name, s.value);
    }
    list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    this.sorted = list;
  }

  get size(): number { return this.sorted.length; }

  lookup(name: string): bigint | undefined { return this.byName.get(name); }

  /** The symbol at or below `addr`, or undefined. */
  at(addr: bigint): NamedAddress | undefined {
    let lo = 0, hi = this.sorted.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.value <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best >= 0 ? this.sorted[best] : undefined;
  }

  /** The symbols in [lo, hi), in address order. */
  between(lo: bigint, hi: bigint): NamedAddress[] {
    let a = 0, b = this.sorted.length;
    while (a < b) { const m = (a + b) >> 1; if (this.sorted[m]!.value < lo) a = m + 1; else b = m; }
    const out: NamedAddress[] = [];
    for (let i = a; i < this.sorted.length && this.sorted[i]!.value < hi; i++) out.push(this.sorted[i]!);
    return out;
  }

  /** "name+0xoff", or the bare hex address when nothing precedes it. */
  describe(addr: bigint): string {
    const s = this.at(addr);
    if (!s) return `0x${addr.toString(16)}`;
    const off = addr - s.value;
    return off === 0n ? s.name : `${s.name}+0x${off.toString(16)}`;
  }
}
