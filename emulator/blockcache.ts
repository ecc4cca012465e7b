// Decoded blocks cached by linear start address and code size. Blocks
// remember the physical frames their bytes came from; a write to such a
// frame invalidates them (self-modifying code, code loaded over old code).
// Paging changes (CR3, invlpg, CR0/CR4/EFER) flush the whole cache.
import type { Cpu } from './cpu.ts';
import type { Block } from './insn.ts';
import { decodeBlock } from './decode.ts';

const BITS = 15;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;

/**
 * The cache's ceiling: past this many decoded instructions held (about
 * 150-250 MB of decoded and compiled code) the whole cache is flushed and
 * refilled on demand, as QEMU flushes a full translation cache. A boot of
 * Debian's kernel holds far fewer; runaway execution would grow without it.
 */
export const MAX_CACHED_INSNS = 1_000_000;

/** Consecutive newly decoded zero-filled blocks that make a runaway (thousands of `add %al,(%rax)`): Stop.Runaway. */
export const RUNAWAY_ZERO_BLOCKS = 64;

export class BlockCache {
  private readonly table: (Block | undefined)[] = new Array(SIZE);
  private readonly byFrame = new Map<number, Block[]>();
  private readonly codeFrames: Uint8Array;
  /** Frames above the memory's flag array (RAM from 4 GiB up) that hold decoded code. */
  private readonly highCodeFrames = new Set<number>();
  /** Blocks decoded since creation (for statistics). */
  decoded = 0;
  /** Whole-cache flushes because the ceiling was reached (for statistics). */
  ceilingFlushes = 0;
  /** Decoded instructions held now. */
  private held = 0;
  /** Newly decoded zero-filled blocks in a row. */
  private zeroRun = 0;
  /** The block looked up last (the successor cache hangs off it). */
  private last: Block | null = null;

  constructor(private readonly c: Cpu) {
    this.codeFrames = new Uint8Array(c.mem.frameFlags.length);
  }

  isCodeFrame(frame: number): boolean {
    if (frame < this.codeFrames.length) return this.codeFrames[frame] === 1;
    return this.highCodeFrames.size !== 0 && this.highCodeFrames.has(frame);
  }

  /**
   * The block at the current RIP, decoding it if needed. Throws CpuFault on
   * a fetch fault. Returns null when the cpu's onBlockDecoded hook asks to
   * stop before newly decoded code (never with `ignoreHook`).
   */
  lookup(ignoreHook = false): Block | null {
    const c = this.c;
    // Successor cache: most blocks go on to one of the two blocks they went to before.
    // Mode, CS base and paging changes end blocks with blockExit, so a RIP match suffices then.
    const prev = this.last;
    if (prev !== null && !c.blockExit) {
      const s = this.successor(prev);
      if (s !== null) return s;
    }
    const b = this.find(ignoreHook);
    if (b !== null && prev !== null && !c.blockExit) { prev.succ2 = prev.succ1; prev.succ1 = b; }
    this.last = b;
    return b;
  }

  /**
   * The block at RIP when it is one of `b`'s two cached successors (b being
   * the block just run), else null. The run loop chains compiled blocks with it.
   */
  successor(b: Block): Block | null {
    const s = this.follow(b);
    if (s !== null) this.last = s;
    return s;
  }

  /**
   * successor() without recording the block it finds as the last one looked up: the interpreter's walk from block
   * to block stores that once, when it stops walking (ranInto), not at every block (an object store into the
   * cache costs a write barrier, a call into the GC while the block is newly decoded).
   */
  follow(b: Block): Block | null {
    const c = this.c;
    const s1 = b.succ1;
    if (s1 !== null && s1.ripLo === c.ripLo && s1.ripHi === c.ripHi && s1.valid) return s1;
    const s2 = b.succ2;
    if (s2 !== null && s2.ripLo === c.ripLo && s2.ripHi === c.ripHi && s2.valid) { b.succ2 = s1; b.succ1 = s2; return s2; }
    return null;
  }

  /** The block at RIP from the table, decoding it on a miss. */
  private find(ignoreHook: boolean): Block | null {
    const c = this.c;
    let linLo = c.ripLo, linHi = c.ripHi;
    if (c.codeBits !== 64) { linLo = (c.ripLo + c.segBaseLo[1]!) | 0; linHi = 0; }
    const slot = (linLo ^ (linLo >>> BITS) ^ linHi) & MASK;
    const b = this.table[slot];
    if (b !== undefined && b.linLo === linLo && b.linHi === linHi && b.ripLo === c.ripLo && b.modeKey === c.codeBits && b.valid) return b;
    if (this.held > MAX_CACHED_INSNS) { this.flush(); this.ceilingFlushes++; }
    const nb = decodeBlock(c, c.ripLo, c.ripHi, linLo, linHi, c.codeBits);
    this.decoded++;
    this.held += nb.insns.length;
    if (nb.zeroFilled && !ignoreHook) {
      if (++this.zeroRun >= RUNAWAY_ZERO_BLOCKS) { this.zeroRun = 0; c.runaway = true; return null; }
    } else this.zeroRun = 0;
    this.table[slot] = nb;
    for (const f of nb.frames) {
      let list = this.byFrame.get(f);
      if (!list) { list = []; this.byFrame.set(f, list); }
      list.push(nb);
      // High RAM takes the slow path on every write (never in the write TLB): its physWrite sees the frame.
      if (f >= this.codeFrames.length) { this.highCodeFrames.add(f); continue; }
      if (this.codeFrames[f] === 0) {
        this.codeFrames[f] = 1;
        c.flushTlb(); // drop write fast paths that could now bypass invalidation
      }
    }
    const hook = c.onBlockDecoded;
    if (hook !== null && !ignoreHook && hook(c, linLo, linHi, nb.physStart)) return null;
    return nb;
  }

  /** A compiled block went on into `b` (Cpu.tail), or the interpreter walked to it (follow): the successor cache continues from it. */
  ranInto(b: Block): void { this.last = b; }

  /** `b`'s compiled form contains `s`'s code: a write to `s`'s frames invalidates `b` too. */
  dependOn(b: Block, s: Block): void {
    for (const f of s.frames) this.byFrame.get(f)?.push(b);
  }

  /** A write touched a frame holding decoded code: forget its blocks. */
  invalidateFrame(frame: number): void {
    const list = this.byFrame.get(frame);
    if (list) for (const b of list) b.valid = false;
    this.byFrame.delete(frame);
    if (frame < this.codeFrames.length) this.codeFrames[frame] = 0;
    else this.highCodeFrames.delete(frame);
    this.c.blockExit = true;
  }

  /** Forget every block (paging or mode changes). */
  flush(): void {
    this.last = null;
    this.held = 0;
    this.table.fill(undefined);
    for (const list of this.byFrame.values()) for (const b of list) b.valid = false;
    this.byFrame.clear();
    this.codeFrames.fill(0);
    this.highCodeFrames.clear();
  }
}
