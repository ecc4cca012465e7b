// Value parsers for scenario files: durations, addresses, sizes. Each
// returns a value or throws ValueError with a message that says what was
// expected; scenario.ts adds the file and field path.

export class ValueError extends Error {}

/** A span of virtual time: nanoseconds, or a number of instructions. */
export type Duration = { ns: number } | { insn: number };

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/** "10ms", "1.5s", "250us", "400ns", "2500000insn", "0". */
export function parseDuration(v: unknown): Duration {
  if (v === 0 || v === '0') return { ns: 0 };
  if (typeof v === 'number') throw new ValueError(`a duration needs a unit: write "${v}ns", "${v}ms" or "${v}insn"`);
  if (typeof v !== 'string') throw new ValueError(`expected a duration string such as "10ms" or "2500000insn", got ${describe(v)}`);
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|ms|s|insn)\s*$/.exec(v);
  if (!m) throw new ValueError(`not a duration: ${JSON.stringify(v)} (use a number with ns, us, ms, s or insn)`);
  const n = Number(m[1]);
  if (m[2] === 'insn') {
    if (!Number.isInteger(n)) throw new ValueError(`instruction counts are whole numbers: ${JSON.stringify(v)}`);
    return { insn: n };
  }
  return { ns: Math.round(n * DURATION_UNITS[m[2]!]!) };
}

/** A guest physical address: a non-negative integer or a "0x..." string, below 2^52. */
export function parseAddress(v: unknown): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^0x[0-9a-fA-F]{1,13}$/.test(v.trim())) n = parseInt(v.trim().slice(2), 16);
  else if (typeof v === 'string' && /^[0-9]{1,16}$/.test(v.trim())) n = Number(v.trim());
  else throw new ValueError(`expected an address (a number or "0x..." hex string), got ${describe(v)}`);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 52) throw new ValueError(`address out of range (0 .. 2^52-1): ${describe(v)}`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A size in bytes: a number, or "512M", "2G", "64K", "512MiB". */
export function parseSize(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`expected a whole number of bytes, got ${v}`);
    return v;
  }
  if (typeof v !== 'string') throw new ValueError(`expected a size such as "512M" or a number of bytes, got ${describe(v)}`);
  const m = /^\s*([0-9]+)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(v);
  if (!m) throw new ValueError(`not a size: ${JSON.stringify(v)} (use e.g. "512M", "2G", "65536")`);
  return Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}
