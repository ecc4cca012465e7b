// Displacement in the kernel image: where RAM holds vmlinux's bytes moved
// by k bytes (RAM[x] = vmlinux[x - k]), as a decompressor leaves them when
// a length or distance it decoded was changed — the 2012 report's image
// had the data after some point 8 bytes too high. Found per PT_LOAD segment
// from the differing bytes only, so a clean image costs one compare pass.
//
// A displaced byte x fits shift k when RAM[x] equals vmlinux's relocated
// byte x - k (moved after relocation), or equals what the decompressor
// makes of the unrelocated byte x - k moved to x and then relocated at the
// relocation sites covering x (moved before relocation, as a corrupted
// decompression is: handle_relocations adds the KASLR delta at fixed
// offsets, whatever they hold by then).
//
// How: at a differing byte not yet explained, a 32-byte anchor of RAM is
// looked up in vmlinux at every distance 1..maxShift, nearest first (an
// anchor needs at least 4 distinct byte values: runs of zeros or of one
// fill byte match anywhere). Each distance where it fits is extended both
// ways over the bytes that fit, through short mismatches (at most MAX_HOLE
// bytes followed by MIN_RESYNC fitting ones: a byte overwritten later); the
// distance explaining most differing bytes wins. The run is clipped to the
// differing bytes it explains, and kept when it explains at least
// MIN_EXPLAINED. Bytes inside it that the shift does not explain stay
// differences.

/** A run of a segment where RAM holds vmlinux's bytes from `shift` bytes lower (negative: higher). */
export interface SegmentShift {
  /** Offsets in the segment of the first and one past the last byte explained by the shift. */
  start: number;
  end: number;
  shift: number;
  /** Differing bytes in [start, end) that the shift explains. */
  explained: number;
}

/** One segment: vmlinux's bytes relocated as expected (`want`), RAM (`actual`), and how relocation works on it. */
export interface ShiftSegment {
  want: Uint8Array;
  actual: Uint8Array;
  /** vmlinux's unrelocated bytes and the relocation sites in segment offsets, when a KASLR delta applies (asked for only when the segment differs). */
  reloc?: () => { raw: Uint8Array; sites: { offset: number; kind: 'r64' | 'r32' | 'inv32' }[]; delta: bigint } | null;
}

export interface ShiftSearch {
  /** Largest |k| tried (default 4096). */
  maxShift?: number;
  /** Anchors looked up before the search gives up for the rest of the image (bounds the cost of heavy corruption). */
  budget?: { attempts: number };
}

const ANCHOR = 32;
const MIN_DISTINCT = 4;
const MAX_HOLE = 16;
const MIN_RESYNC = 16;
const MIN_EXPLAINED = 8;
/** Fitting distances evaluated per anchor. */
const MAX_CANDIDATES = 4;
/** The furthest a failed lookup sends the next anchor (bytes). */
const MAX_SKIP = 64 * 1024;

const KIND_CODE = { r64: 1, r32: 2, inv32: 3 } as const;

/** The fit test of one segment (see the file comment). */
class Fitter {
  readonly want: Uint8Array;
  readonly actual: Uint8Array;
  readonly n: number;
  private readonly raw: Uint8Array | null = null;
  /** Per byte: 0, or (relocation kind << 3) | byte index in the site's word. */
  private readonly siteMap: Uint8Array | null = null;
  private readonly dLo: number = 0;
  private readonly dHi: number = 0;

  constructor(seg: ShiftSegment) {
    this.want = seg.want; this.actual = seg.actual;
    this.n = Math.min(seg.want.length, seg.actual.length);
    const r = seg.reloc?.() ?? null;
    if (r !== null && r.delta !== 0n && r.sites.length > 0) {
      this.raw = r.raw;
      const map = new Uint8Array(this.n);
      for (const s of r.sites) {
        const w = s.kind === 'r64' ? 8 : 4;
        if (s.offset < 0 || s.offset + w > this.n) continue;
        for (let j = 0; j < w; j++) map[s.offset + j] = (KIND_CODE[s.kind] << 3) | j;
      }
      this.siteMap = map;
      const d = BigInt.asUintN(64, r.delta);
      this.dLo = Number(d & 0xffffffffn) | 0; this.dHi = Number(d >> 32n) | 0;
    }
  }

  /** Does RAM byte x fit vmlinux's byte x - k? */
  fits(x: number, k: number): boolean {
    const y = x - k, a = this.actual[x];
    if (y < 0 || y >= this.n) return false;
    if (a === this.want[y]) return true;
    const map = this.siteMap;
    if (map === null) return false;
    const m = map[x]!;
    const raw = this.raw!;
    if (m === 0) return a === raw[y];
    // x lies in a relocation site's word: the unrelocated word moved there, plus the delta.
    const kind = m >> 3, j = m & 7, w = kind === 1 ? 8 : 4, s = y - j;
    if (s < 0 || s + w > this.n) return false;
    const lo = (raw[s]! | (raw[s + 1]! << 8) | (raw[s + 2]! << 16) | (raw[s + 3]! << 24)) >>> 0;
    let rlo: number, rhi = 0;
    if (kind === 1) {
      const hi = (raw[s + 4]! | (raw[s + 5]! << 8) | (raw[s + 6]! << 16) | (raw[s + 7]! << 24)) >>> 0;
      const t = lo + (this.dLo >>> 0);
      rlo = t >>> 0; rhi = (hi + this.dHi + (t > 0xffffffff ? 1 : 0)) >>> 0;
    } else rlo = (kind === 2 ? lo + this.dLo : lo - this.dLo) >>> 0;
    const b = j < 4 ? (rlo >>> (8 * j)) & 0xff : (rhi >>> (8 * (j - 4))) & 0xff;
    return a === b;
  }

  anchorFits(a: number, k: number): boolean {
    for (let j = 0; j < ANCHOR; j++) if (!this.fits(a + j, k)) return false;
    return true;
  }

  informative(a: number): boolean {
    const seen = new Set<number>();
    for (let j = 0; j < ANCHOR && seen.size < MIN_DISTINCT; j++) seen.add(this.actual[a + j]!);
    return seen.size >= MIN_DISTINCT;
  }

  /**
   * The shift k around anchor a: extend both ways over fitting bytes through
   * holes of at most MAX_HOLE followed by MIN_RESYNC fits, not below `floor`;
   * clip to the explained differing bytes.
   */
  extend(a: number, k: number, floor: number): SegmentShift | null {
    const n = this.n;
    let hi = a; // one past the last fitting byte
    for (let x = a; x < n;) {
      if (this.fits(x, k)) { hi = ++x; continue; }
      let h = x;
      while (h < n && h - x < MAX_HOLE && !this.fits(h, k)) h++;
      let r = h;
      while (r < n && r - h < MIN_RESYNC && this.fits(r, k)) r++;
      if (r - h < MIN_RESYNC) break;
      x = r; hi = r;
    }
    let lo = a; // the first fitting byte
    for (let x = a - 1; x >= floor;) {
      if (this.fits(x, k)) { lo = x--; continue; }
      let h = x;
      while (h >= floor && x - h < MAX_HOLE && !this.fits(h, k)) h--;
      let r = h;
      while (r >= floor && h - r < MIN_RESYNC && this.fits(r, k)) r--;
      if (h - r < MIN_RESYNC) break;
      x = r; lo = r + 1;
    }
    let start = -1, end = -1, explained = 0;
    for (let x = lo; x < hi; x++) {
      if (this.actual[x] !== this.want[x] && this.fits(x, k)) {
        if (start < 0) start = x;
        end = x + 1;
        explained++;
      }
    }
    if (explained < MIN_EXPLAINED) return null;
    return { start, end, shift: k, explained };
  }
}

/**
 * Shifted runs of one segment, in order, not overlapping, and a mask with
 * 1 for each differing byte they explain (null when there are none).
 */
export function findShifts(seg: ShiftSegment, opts: ShiftSearch = {}): { shifts: SegmentShift[]; explained: Uint8Array | null } {
  const maxShift = opts.maxShift ?? 4096;
  const budget = opts.budget ?? { attempts: 4096 };
  const { want, actual } = seg;
  const n = Math.min(want.length, actual.length);
  const shifts: SegmentShift[] = [];
  let f: Fitter | null = null; // built at the first difference: a clean segment costs one compare pass
  let floor = 0; // nothing before this: it belongs to a shift already found
  let retryAt = 0; // after a failed lookup, the next one is an anchor further on
  // Failed lookups in a row double the distance to the next anchor (up to MAX_SKIP): a
  // garbled stretch — the decompressor's matches reaching back across the point where its
  // output went wrong — cannot use up the budget before the clean shift beyond it.
  let skip = ANCHOR;
  for (let x = 0; x + ANCHOR <= n; x++) {
    if (actual[x] === want[x] || x < retryAt) continue;
    if (budget.attempts <= 0) break;
    budget.attempts--;
    retryAt = x + ANCHOR;
    const fit: Fitter = f ??= new Fitter(seg);
    if (!fit.informative(x)) continue;
    let best = null as SegmentShift | null, found = 0;
    const consider = (k: number) => {
      if (!fit.anchorFits(x, k)) return;
      found++;
      const s = fit.extend(x, k, floor);
      if (s !== null && (best === null || s.explained > best.explained)) best = s;
    };
    for (let d = 1; d <= maxShift && found < MAX_CANDIDATES; d++) { consider(d); consider(-d); }
    if (best === null) {
      retryAt = x + skip;
      skip = Math.min(skip * 2, MAX_SKIP);
      continue;
    }
    shifts.push(best);
    floor = best.end;
    x = best.end - 1;
    retryAt = 0;
    skip = ANCHOR;
  }
  if (shifts.length === 0 || f === null) return { shifts, explained: null };
  const mask = new Uint8Array(n);
  for (const s of shifts) for (let x = s.start; x < s.end; x++) if (actual[x] !== want[x] && f.fits(x, s.shift)) mask[x] = 1;
  return { shifts, explained: mask };
}
