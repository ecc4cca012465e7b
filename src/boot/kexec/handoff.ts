// The CPU and memory state in which the old kernel's relocate_kernel
// (linux 6.1 arch/x86/kernel/relocate_kernel_64.S, identity_mapped) enters
// purgatory, after machine_kexec (machine_kexec_64.c) ran:
// - machine_kexec: interrupts off, load_segments() puts __KERNEL_DS (0x18)
//   in DS/ES/SS/FS/GS, then native_idt_invalidate() / native_gdt_invalidate()
//   load GDTR and IDTR with base 0, limit 0. CS stays __KERNEL_CS (0x10).
// - relocate_kernel: `pushq $0; popfq` (RFLAGS = 0x2, IF clear), CR3 = the
//   identity page table (the first control page), RSP = end of the second
//   control page.
// - identity_mapped: pushes 0 (the "return address" when not preserving
//   context) and the entry address; CR4.CET cleared; CR0 &= ~(AM|WP|TS|EM),
//   |= PG|PE; CR4 = PAE (| LA57 if the old kernel ran 5-level paging);
//   CR3 reloaded; swap_pages; every GPR zeroed with `xor` (so the last flags
//   are ZF|PF: RFLAGS = 0x46); `ret` pops the entry: RIP = purgatory_start,
//   [RSP] = 0 — purgatory saves it as jump_back_entry. EFER is untouched: the
//   old kernel's SCE|LME|LMA|NXE.
// - init_pgtable: identity maps every pfn range the old kernel mapped (all
//   of RAM plus [0, 1 MiB)) and every segment, with 1 GiB pages where a whole
//   aligned GiB is covered and direct_gbpages is on, else 2 MiB pages;
//   leaves __PAGE_KERNEL_LARGE_EXEC (P|RW|A|D|PSE|G = 0x1e3), tables
//   _KERNPG_TABLE_NOENC (P|RW|A|D = 0x63). The one extra mapping of
//   relocate_kernel's old virtual address (init_transition_pgtable) is not
//   reproduced: it is only used for the instant after the CR3 switch, and
//   its address belongs to the old kernel.
// Where these pages live is the old kernel's page allocator's choice
// (kimage_alloc_control_pages: any pages outside the segments). We put them
// in one run of free RAM, by default the lowest free pages at or above 1 MiB.
import { InputError } from '../../errors.ts';
import { E820, type MemoryRange } from './memoryMap.ts';
import { PAGE_SIZE, type Segment } from './placement.ts';

export const CR0 = { PE: 1n << 0n, MP: 1n << 1n, EM: 1n << 2n, TS: 1n << 3n, ET: 1n << 4n, NE: 1n << 5n, WP: 1n << 16n, AM: 1n << 18n, PG: 1n << 31n } as const;
export const CR4 = { PAE: 1n << 5n, LA57: 1n << 12n } as const;
export const EFER = { SCE: 1n << 0n, LME: 1n << 8n, LMA: 1n << 10n, NXE: 1n << 11n } as const;
export const PTE = { P: 1n, RW: 2n, A: 1n << 5n, D: 1n << 6n, PSE: 1n << 7n, G: 1n << 8n } as const;
/** __PAGE_KERNEL_LARGE_EXEC */
export const PAGE_LARGE_EXEC = PTE.P | PTE.RW | PTE.A | PTE.D | PTE.PSE | PTE.G;
/** _KERNPG_TABLE_NOENC */
export const KERNPG_TABLE = PTE.P | PTE.RW | PTE.A | PTE.D;
/** The old kernel's CR0 (head_64.S CR0_STATE: PE|MP|ET|NE|WP|AM|PG). */
export const OLD_KERNEL_CR0 = CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.AM | CR0.PG;
export const KERNEL_CS = 0x10;
export const KERNEL_DS = 0x18;

export type Gpr = 'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi' | 'rsp' | 'rbp' | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15';

export interface SegmentState {
  selector: number;
  base: bigint;
  limit: number;
  /** Descriptor attributes as in the GDT entry's flags word (type, S, DPL, P, AVL, L, D/B, G). */
  attributes: number;
  /** Long-mode code segment (L = 1). */
  long: boolean;
}

export interface DescriptorTable {
  base: bigint;
  limit: number;
}

export interface MemoryBlock {
  addr: number;
  bytes: Uint8Array;
  what: string;
}

export interface HandoffState {
  rip: bigint;
  rflags: bigint;
  /** All zero except rsp. */
  regs: Record<Gpr, bigint>;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
  cs: SegmentState;
  ds: SegmentState;
  es: SegmentState;
  ss: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
  /** GDTR and IDTR after native_gdt_invalidate / native_idt_invalidate: base 0, limit 0. Any descriptor load or exception faults. */
  gdtr: DescriptorTable;
  idtr: DescriptorTable;
  interruptsEnabled: false;
  /** Page-table root (CR3) and the pages that hold the tables. */
  pageTables: { root: number; levels: 4 | 5; gbpages: boolean; pages: number[] };
  /** relocate_kernel's control page (holds the stack). */
  controlPage: number;
  /** Everything to write into guest RAM before starting: page tables and the control page's stack. */
  memory: MemoryBlock[];
  /** The guest-physical range these pages occupy [start, end). */
  region: { start: number; end: number };
}

export interface HandoffOptions {
  /** Old kernel ran 5-level paging (CR4.LA57). Default false. */
  la57?: boolean;
  /** direct_gbpages: 1 GiB leaves where possible. Default true. */
  gbpages?: boolean;
  /** Page-aligned start for the control pages and page tables; default: lowest free pages ≥ 1 MiB. */
  base?: number;
  /** The old kernel's EFER. Default SCE|LME|LMA|NXE. */
  efer?: bigint;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** The ranges init_pgtable maps: the old kernel's pfn_mapped ([0, 1 MiB) ∪ RAM, merged) and every segment. */
export function identityRanges(ranges: readonly MemoryRange[], segments: readonly Segment[]): { start: number; end: number }[] {
  const mapped: { start: number; end: number }[] = [{ start: 0, end: 0x100000 }];
  for (const r of ranges) {
    if (r.type !== E820.RAM) continue;
    const start = Math.floor(r.start / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.floor((r.end + 1) / PAGE_SIZE) * PAGE_SIZE;
    if (end > start) mapped.push({ start, end });
  }
  mapped.sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const m of mapped) {
    const last = merged[merged.length - 1];
    if (last && m.start <= last.end) last.end = Math.max(last.end, m.end);
    else merged.push({ ...m });
  }
  return [...merged, ...segments.map((s) => ({ start: s.mem, end: s.mem + s.memsz }))];
}

/** Builds identity page tables the way kernel_ident_mapping_init does, allocating table pages from `alloc`. */
export class IdentityMap {
  readonly tables = new Map<number, BigUint64Array>();
  readonly root: number;

  constructor(
    readonly levels: 4 | 5,
    readonly gbpages: boolean,
    private readonly alloc: () => number,
  ) {
    this.root = this.newTable();
  }

  private newTable(): number {
    const a = this.alloc();
    this.tables.set(a, new BigUint64Array(512));
    return a;
  }

  /** Maps [start, end) 1:1. */
  map(start: number, end: number): void {
    const PUD = 2 ** 30;
    const PMD = 2 ** 21;
    const tableFor = (table: BigUint64Array, i: number): BigUint64Array => {
      const e = table[i]!;
      if (e & PTE.P) return this.tables.get(Number(e & 0x000ffffffffff000n))!;
      const t = this.newTable();
      table[i] = BigInt(t) | KERNPG_TABLE;
      return this.tables.get(t)!;
    };
    const root = this.tables.get(this.root)!;
    for (let addr = start; addr < end; ) {
      const gib = Math.floor(addr / PUD);
      const next = Math.min((gib + 1) * PUD, end);
      let pud: BigUint64Array;
      if (this.levels === 5) pud = tableFor(tableFor(root, Math.floor(addr / 2 ** 48) % 512), Math.floor(addr / 2 ** 39) % 512);
      else pud = tableFor(root, Math.floor(addr / 2 ** 39) % 512);
      const pi = gib % 512;
      const e = pud[pi]!;
      if (!((e & PTE.P) && (e & PTE.PSE))) {
        const whole = this.gbpages && addr % PUD === 0 && next % PUD === 0 && !(e & PTE.P);
        if (whole) pud[pi] = BigInt(gib * PUD) | PAGE_LARGE_EXEC;
        else {
          const pmd = tableFor(pud, pi);
          for (let a = Math.floor(addr / PMD) * PMD; a < next; a += PMD) {
            const k = Math.floor(a / PMD) % 512;
            if (!(pmd[k]! & PTE.P)) pmd[k] = BigInt(a) | PAGE_LARGE_EXEC;
          }
        }
      }
      addr = next;
    }
  }

  /** Walks the tables like the MMU: the physical address `va` maps to, or null. */
  translate(va: number): number | null {
    let table = this.tables.get(this.root)!;
    const shifts = this.levels === 5 ? [48, 39, 30, 21] : [39, 30, 21];
    for (const s of shifts) {
      const e = table[Math.floor(va / 2 ** s) % 512]!;
      if (!(e & PTE.P)) return null;
      const frame = Number(e & 0x000ffffffffff000n);
      if ((s === 30 || s === 21) && e & PTE.PSE) return frame - (frame % 2 ** s) + (va % 2 ** s);
      table = this.tables.get(frame)!;
      if (!table) return null;
    }
    return null;
  }
}

/** Lowest run of `pages` free pages at or above `from` inside RAM, outside every segment. */
export function findFreePages(ranges: readonly MemoryRange[], segments: readonly Segment[], pages: number, from = 0x100000): number | null {
  const need = pages * PAGE_SIZE;
  for (const r of ranges) {
    if (r.type !== E820.RAM) continue;
    let start = Math.ceil(Math.max(r.start, from) / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.floor((r.end + 1) / PAGE_SIZE) * PAGE_SIZE;
    while (start + need <= end) {
      const hit = segments.find((s) => s.mem < start + need && s.mem + s.memsz > start);
      if (!hit) return start;
      start = Math.ceil((hit.mem + hit.memsz) / PAGE_SIZE) * PAGE_SIZE;
    }
  }
  return null;
}

/** The state relocate_kernel leaves when it jumps to `entry` (purgatory_start) with `segments` loaded. */
export function buildHandoff(entry: number, ranges: readonly MemoryRange[], segments: readonly Segment[], opts: HandoffOptions = {}): HandoffState {
  const levels = opts.la57 ? 5 : 4;
  const gbpages = opts.gbpages ?? true;
  const toMap = identityRanges(ranges, segments);
  // First a dry run to count the table pages, then place them and build for real.
  let count = 0;
  const dry = new IdentityMap(levels, gbpages, () => PAGE_SIZE * count++);
  for (const r of toMap) dry.map(r.start, r.end);
  const pages = count + 1; // + the control page
  const base = opts.base ?? findFreePages(ranges, segments, pages);
  if (base === null) throw new InputError(`hand-off: no ${pages} free pages in guest RAM for the control page and page tables`);
  if (base % PAGE_SIZE) throw new InputError(`hand-off: base ${hex(base)} is not page aligned`);
  const end = base + pages * PAGE_SIZE;
  const clash = segments.find((s) => s.mem < end && s.mem + s.memsz > base);
  if (clash) throw new InputError(`hand-off: pages ${hex(base)}-${hex(end - 1)} overlap segment ${clash.name}`);
  // kexec's layout: control_code_page = [table root, control page]; further tables after.
  const order = [base, ...Array.from({ length: pages - 2 }, (_, i) => base + (i + 2) * PAGE_SIZE)];
  let next = 0;
  const idmap = new IdentityMap(levels, gbpages, () => order[next++]!);
  for (const r of toMap) idmap.map(r.start, r.end);
  const controlPage = base + PAGE_SIZE;
  const rsp = controlPage + PAGE_SIZE - 8;

  const memory: MemoryBlock[] = [...idmap.tables].map(([addr, t]) => ({ addr, bytes: new Uint8Array(t.buffer.slice(0)), what: addr === idmap.root ? 'page table root (CR3)' : 'page table' }));
  const control = new Uint8Array(PAGE_SIZE);
  const cv = new DataView(control.buffer);
  cv.setBigUint64(PAGE_SIZE - 8, 0n, true); // pushq $0: purgatory's jump_back_entry
  cv.setBigUint64(PAGE_SIZE - 16, BigInt(entry), true); // pushq %rdx, popped by ret
  memory.push({ addr: controlPage, bytes: control, what: 'control page (relocate_kernel stack)' });
  memory.sort((a, b) => a.addr - b.addr);

  const regs = Object.fromEntries((['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const).map((r) => [r, 0n])) as Record<Gpr, bigint>;
  regs.rsp = BigInt(rsp);
  const code: SegmentState = { selector: KERNEL_CS, base: 0n, limit: 0xffffffff, attributes: 0xa09b, long: true };
  const data = (): SegmentState => ({ selector: KERNEL_DS, base: 0n, limit: 0xffffffff, attributes: 0xc093, long: false });
  return {
    rip: BigInt(entry),
    rflags: 0x46n,
    regs,
    cr0: (OLD_KERNEL_CR0 & ~(CR0.AM | CR0.WP | CR0.TS | CR0.EM)) | CR0.PG | CR0.PE,
    cr2: 0n,
    cr3: BigInt(idmap.root),
    cr4: CR4.PAE | (opts.la57 ? CR4.LA57 : 0n),
    efer: opts.efer ?? EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE,
    cs: code,
    ds: data(),
    es: data(),
    ss: data(),
    fs: data(),
    gs: data(),
    gdtr: { base: 0n, limit: 0 },
    idtr: { base: 0n, limit: 0 },
    interruptsEnabled: false,
    pageTables: { root: idmap.root, levels, gbpages, pages: [...idmap.tables.keys()].sort((a, b) => a - b) },
    controlPage,
    memory,
    region: { start: base, end },
  };
}
