// What the HTML report shows, gathered from a finished boot as plain data
// (JSON in the page): the guest-physical memory map — e820, kexec's segments
// and hand-off pages, the decompressor's relocated copy, its output and
// startup_64, the stale Xen frames, the hypervisor's writes, the image diff —
// with symbols and byte windows for zooming in; the timeline on the virtual
// clock; the dump, the diff as hex, the cause chain, the console.
import { existsSync, readFileSync } from 'node:fs';
import { e820TypeName } from '../boot/kexec/memoryMap.ts';
import { describeAddress } from '../boot/phases.ts';
import { readVmlinux } from '../boot/vmlinux.ts';
import { decompressorPlacement, decompressorRegions } from '../boot/decompressorLayout.ts';
import { loadPhysicalAddr } from '../boot/expectedImage.ts';
import { pageWalk } from '../machine/pageWalk.ts';
import { codeAround, formatDump } from '../analysis/dump.ts';
import type { BootResult } from '../analysis/checkedBoot.ts';
import type { ScenarioRun } from '../analysis/scenarioBoot.ts';
import type { CauseStep } from '../analysis/causeChain.ts';
import type { Vmlinux } from '../boot/vmlinux.ts';

/** A range of guest-physical memory on the map, [start, end). */
export interface MapRegion {
  /** Which row of the map it is drawn in. */
  lane: 'e820' | 'kexec' | 'decompressor' | 'kernel' | 'footprint' | 'xen' | 'diff';
  /** What it is (a CSS class and a test hook): 'ram', 'segment', 'handoff', 'decompressor', 'image', 'load', 'xen-frame', 'diff', 'shift'… */
  kind: string;
  start: number;
  end: number;
  label: string;
  /** More about it, for the details panel. */
  detail: string;
  /** Drawn in one of `of` equal sub-rows of its lane (default: the whole lane). */
  row?: { index: number; of: number };
}

/** A point event on the map and the timeline. */
export interface MapMark {
  kind: 'xen-write' | 'guest-write';
  /** Guest-physical address and length. */
  addr: number;
  len: number;
  /** Virtual time: instructions retired before it. */
  icount: number;
  /** The Xen field written ("vcpu_info[0].time.system_time"), or for a guest write the frame's role. */
  field: string;
  /** Index into the report's field palette. */
  color: number;
  /** Bytes before and after, as hex. */
  before: string;
  after: string;
  /** Where it landed in the boot's memory ("new kernel: startup_64+0x123"), or the guest instruction. */
  landed: string;
  /** A guest write: rip, "symbol+0xoff" and disassembly. */
  instruction?: string;
  /** False for a Xen write to a frame outside RAM (no effect on the guest). */
  visible: boolean;
}

export interface TimelineEvent {
  icount: number;
  kind: 'phase' | 'kernel-entry' | 'xen-write' | 'guest-write' | 'upcall' | 'end';
  label: string;
  /** For 'xen-write' and 'guest-write': index into `marks`. */
  mark?: number;
}

/** A byte window of guest RAM as it was at the end of the run. */
export interface ByteWindow { start: number; hex: string }

/** A symbol placed in guest-physical memory. */
export interface PlacedSymbol { name: string; phys: number; stage: 'kernel' | 'purgatory' | 'decompressor' }

/** Everything the report page shows. */
export interface ReportData {
  title: string;
  /** The command line that produced the run. */
  command: string;
  outcome: string;
  reason: string;
  phase: string;
  instructions: number;
  /** "symbol+0xoff" of rip at the stop. */
  where: string;
  ramSize: number;
  /** The extent of the map: RAM and anything the boot put above it (a Xen frame in the MMIO hole). */
  mapEnd: number;
  regions: MapRegion[];
  marks: MapMark[];
  /** Distinct fields of the marks, in palette order, with counts. */
  fields: { name: string; count: number }[];
  /** startup_64 in guest-physical memory, once the decompressor jumped there. */
  startup64: number | null;
  symbols: PlacedSymbol[];
  bytes: ByteWindow[];
  timeline: { end: number; phases: { name: string; start: number; end: number }[]; events: TimelineEvent[] };
  diff: {
    compared: number;
    differing: number;
    shifted: number;
    virtDelta: string;
    ranges: { phys: number; length: number; where: string; vaddr: string; expected: string; actual: string }[];
    shifts: { phys: number; length: number; shift: number; where: string; from: string }[];
  } | null;
  /** The xenctx-style dump (registers, code) when the run did not reach its target. */
  dump: string | null;
  chain: { kind: string; icount: number; rip: string | null; where: string; instruction: string; address: number | null; value: string; bytes: string; text: string }[];
  /** Why the chain is empty, when it is. */
  chainNote: string;
  /** The counterfactual explanation (repro --explain) as text, when computed. */
  explanation: string | null;
  console: string;
  vga: string[];
  scenario: { file: string; fix: string | null; description: string } | null;
}

/** What a report is made from. */
export interface ReportInput {
  /** The page's title. */
  title: string;
  /** The command line that produced the run, shown under the title. */
  command: string;
  /** The finished boot (bootKexec's result, or a scenario run's). */
  result: BootResult;
  /** A Xen scenario run (bootpath repro): frames, hypervisor writes, first guest writes. */
  scenario?: { run: ScenarioRun; file: string; fix: string | null } | null;
  /** The cause chain (crashCauseChain), drawn with disassembly and symbols. */
  chain?: CauseStep[];
  /** Why there is no chain, when there is none ('only for crashes', 'skipped'). */
  chainNote?: string;
  /** The counterfactual explanation, formatted (formatExplanation). */
  explanation?: string | null;
  /** The decompressor's ELF (bundled kernels ship one): its relocated copy is drawn part by part. */
  decompressorElf?: string | null;
  /** The payload's vmlinux (PreparedKexec.elf): the kernel's PT_LOAD segments and LOAD_PHYSICAL_ADDR. */
  elf?: Vmlinux | null;
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const h = (n: number | bigint) => `0x${n.toString(16)}`;

export function buildReportData(input: ReportInput): ReportData {
  const r = input.result, plan = r.plan, m = r.machine;
  const regions: MapRegion[] = [];
  const ramSize = m.ram.size;

  for (const e of plan.firmwareMap) {
    const type = e820TypeName(e.type);
    regions.push({ lane: 'e820', kind: type === 'RAM' ? 'ram' : 'reserved', start: e.start, end: e.end + 1, label: `e820 ${type}`, detail: `${h(e.start)}-${h(e.end)} ${type} (firmware map, hvmloader's)` });
  }
  for (const s of plan.segments) {
    regions.push({ lane: 'kexec', kind: 'segment', start: s.mem, end: s.mem + s.memsz, label: `kexec segment: ${s.name}`, detail: `${h(s.mem)}-${h(s.mem + s.memsz)}, ${s.bufsz} bytes of buffer, ${s.memsz} in memory` });
  }
  for (const b of plan.handoff.memory) {
    regions.push({ lane: 'kexec', kind: 'handoff', start: b.addr, end: b.addr + b.bytes.length, label: `hand-off: ${b.what}`, detail: `relocate_kernel's ${b.what} at ${h(b.addr)}` });
  }

  // The decompressor: where kexec loaded it (the kernel segment), its copy at the end of its buffer, its output.
  const decompressor = input.decompressorElf && existsSync(input.decompressorElf)
    ? readVmlinux(new Uint8Array(readFileSync(input.decompressorElf)), input.decompressorElf) : null;
  const payloadElf = input.elf ?? null;
  const align = plan.kernel.alignment;
  let bufStart = Math.ceil(plan.kernel.base / align) * align;
  if (payloadElf) bufStart = Math.max(bufStart, Number(loadPhysicalAddr(payloadElf)));
  const parts = decompressor && payloadElf ? decompressorRegions(plan, payloadElf, decompressor) : [];
  if (parts.length) for (const p of parts) regions.push({ lane: 'decompressor', kind: 'decompressor', start: p.start, end: p.end, label: p.what, detail: `the decompressor's relocated copy: ${p.what}, ${h(p.start)}-${h(p.end)}` });
  else regions.push({ lane: 'decompressor', kind: 'decompressor', start: bufStart, end: bufStart + plan.kernel.initSize, label: 'decompressor buffer (init_size)', detail: `the decompressor's buffer: its output at the start, its relocated copy at the end (no decompressor ELF to place the copy's parts)` });

  const e = r.kernelEntry;
  const symbols: PlacedSymbol[] = [];
  if (e) {
    const text = r.symbols.table.lookup('_text'), end = r.symbols.table.lookup('_end');
    if (text !== undefined && end !== undefined) {
      const start = e.outputPhys + Number(text - e.linkBase);
      regions.push({ lane: 'kernel', kind: 'image', start, end: start + Number(end - text), label: 'new kernel [_text, _end)', detail: `the decompressor's output: vmlinux at ${h(e.outputPhys)}, KASLR virtual delta ${h(e.virtDelta)}; startup_64 entered at instruction ${e.icount.toLocaleString('en-US')}`, row: { index: 0, of: 2 } });
      for (const s of r.symbols.table.between(text, end)) symbols.push({ name: s.name, phys: e.outputPhys + Number(s.value - e.linkBase), stage: 'kernel' });
    }
    if (payloadElf) {
      const lpa = loadPhysicalAddr(payloadElf);
      for (const sg of payloadElf.segments) {
        const start = e.outputPhys + Number(sg.paddr - lpa);
        const flags = `${sg.flags.r ? 'r' : '-'}${sg.flags.w ? 'w' : '-'}${sg.flags.x ? 'x' : '-'}`;
        regions.push({ lane: 'kernel', kind: 'load', start, end: start + sg.memsz, label: `vmlinux PT_LOAD ${sg.index} (${flags})`, detail: `vmlinux PT_LOAD ${sg.index}, ${flags}, vaddr ${h(sg.vaddr)}, ${sg.filesz} bytes from the file, ${sg.memsz} in memory`, row: { index: 1, of: 2 } });
      }
    }
  }
  // The frames each phase wrote (when the run recorded its layout).
  const phaseNames = ['purgatory', 'decompressor', 'kernel'] as const;
  if (r.layout) {
    phaseNames.forEach((p, index) => {
      for (const f of r.layout!.footprint[p].written) {
        regions.push({ lane: 'footprint', kind: `wrote-${p}`, start: f.start, end: f.end, label: `written by the ${p}`, detail: `${h(f.start)}-${h(f.end)} (${f.what}): written during the ${p} phase`, row: { index, of: 3 } });
      }
    });
  }
  for (const [name, addr] of Object.entries(plan.purgatory.symbols)) symbols.push({ name, phys: addr, stage: 'purgatory' });
  if (decompressor && payloadElf) {
    const p = decompressorPlacement(plan, payloadElf, decompressor);
    if (p) for (const s of decompressor.symbols) if (s.type === 'func' || s.type === 'object' || s.type === 'notype') symbols.push({ name: s.name, phys: Number(s.value + p.relocated), stage: 'decompressor' });
  }
  symbols.sort((a, b) => a.phys - b.phys);

  // Xen: the stale frames, the hypervisor's writes and the guest's first writes into each frame.
  const marks: MapMark[] = [];
  const fieldIndex = new Map<string, number>();
  const color = (f: string) => { if (!fieldIndex.has(f)) fieldIndex.set(f, fieldIndex.size); return fieldIndex.get(f)!; };
  const events: TimelineEvent[] = [];
  const sc = input.scenario?.run;
  let mapEnd = ramSize;
  if (sc) {
    for (const f of sc.timeline.frames) {
      const start = f.gfn * 4096;
      mapEnd = Math.max(mapEnd, start + 4096);
      regions.push({ lane: 'xen', kind: 'xen-frame', start, end: start + 4096, label: `stale ${f.role} (gfn ${h(f.gfn)})`, detail: `${f.label}; ${f.inRam ? 'in guest RAM' : 'outside RAM: a Xen-only page the guest never sees'}` });
    }
    for (const w of sc.timeline.hypervisorWrites) {
      if (w.event === 'initial_state' || w.suppressed) continue;
      const k = marks.length;
      marks.push({ kind: 'xen-write', addr: w.addr, len: w.after.length, icount: w.icount, field: w.field, color: color(w.field), before: hexOf(w.before), after: hexOf(w.after), landed: w.landed ?? '', visible: w.guestVisible });
      events.push({ icount: w.icount, kind: 'xen-write', label: `Xen writes ${w.field}${w.detail ? ` (${w.detail})` : ''}`, mark: k });
    }
    for (const g of sc.timeline.firstGuestWrite) {
      const f = sc.timeline.frames.find((x) => x.gfn === g.gfn);
      const k = marks.length;
      const instruction = `rip ${h(g.rip)} <${g.where ?? '?'}>: ${g.instruction}`;
      marks.push({ kind: 'guest-write', addr: g.addr, len: g.len, icount: g.icount, field: `first guest write into ${f?.role ?? 'the frame'}`, color: -1, before: '', after: '', landed: `${g.phase}, ${instruction}`, instruction, visible: true });
      events.push({ icount: g.icount, kind: 'guest-write', label: `first guest write into the stale ${f?.role ?? 'frame'} at gfn ${h(g.gfn)}: ${instruction}`, mark: k });
    }
    for (const u of sc.timeline.upcalls) events.push({ icount: u.icount, kind: 'upcall', label: `upcall raised for vcpu ${u.vcpu} (no interrupt injected: IF is clear)` });
  }

  // The image diff: ranges and shifted runs on the map, and as hex.
  const d = r.imageDiff;
  if (d) {
    for (const x of d.ranges) regions.push({ lane: 'diff', kind: 'diff', start: x.phys, end: x.phys + x.length, label: `image differs: ${x.where}`, detail: `${x.length} byte(s) differ from vmlinux at ${h(x.phys)} (${x.where}, vaddr ${h(x.vaddr)})` });
    for (const s of d.shifts ?? []) regions.push({ lane: 'diff', kind: 'shift', start: s.phys, end: s.phys + s.length, label: `vmlinux displaced by ${s.shift}: ${s.where}`, detail: `RAM holds vmlinux's bytes from ${s.from} displaced by ${s.shift} byte(s), ${s.bytesExplained} differing bytes explained` });
  }

  // Byte windows of RAM as the run left it, where one zooms in.
  const windows: [number, number][] = [];
  const want = (a: number, len: number) => { const lo = Math.max(0, a), hi = Math.min(ramSize, a + len); if (hi > lo) windows.push([lo, hi]); };
  for (const s of plan.segments) want(s.mem, 512);
  want(plan.bootParams.base, 4096);
  for (const reg of regions) if (reg.kind === 'xen-frame') want(reg.start, 4096);
  for (const mk of marks) want(mk.addr - 32, mk.len + 64);
  if (d) for (const x of d.ranges.slice(0, 64)) want(x.phys - 64, Math.min(x.length, 1024) + 128);
  if (e) want(e.startup64Phys - 64, 512);
  const ripPhys = physOf(r, r.state.rip);
  if (ripPhys !== null) want(ripPhys - 128, 256);
  const bytes = mergeWindows(windows).map(([lo, hi]) => ({ start: lo, hex: hexOf(m.ram.read(lo, hi - lo)) }));

  // The timeline on the virtual clock.
  const ps = r.context.phaseStart;
  const order: ['purgatory' | 'decompressor' | 'kernel', number | undefined][] = [['purgatory', ps.purgatory], ['decompressor', ps.decompressor], ['kernel', ps.kernel]];
  const phases: ReportData['timeline']['phases'] = [];
  for (let i = 0; i < order.length; i++) {
    const [name, start] = order[i]!;
    if (start === undefined) continue;
    const next = order.slice(i + 1).find(([, s]) => s !== undefined)?.[1];
    phases.push({ name, start, end: next ?? r.instructions });
    events.push({ icount: start, kind: 'phase', label: `${name} begins` });
  }
  if (e) events.push({ icount: e.icount, kind: 'kernel-entry', label: `the decompressor jumps to startup_64 at ${h(e.startup64Phys)}` });
  events.push({ icount: r.instructions, kind: 'end', label: `${r.outcome}: ${r.reason}${r.tripleFault ? ` (${r.tripleFault.chain.map((f) => `#${f.vector}`).join(' → ')})` : ''} at ${describeAddress(r, r.state.rip)}` });
  events.sort((a, b) => a.icount - b.icount);

  const dump = r.outcome === 'reached' ? null : formatDump(r.state, { describe: (a) => describeAddress(r, a) }, codeAround(m.cpu, r.state.rip)).trimEnd();
  const chain = (input.chain ?? []).map((s) => ({
    kind: s.kind, icount: s.icount, rip: s.rip !== undefined ? h(s.rip) : null, where: s.where ?? '', instruction: s.instruction ?? '',
    address: s.address ?? null, value: s.value ?? '', bytes: s.bytes ?? '', text: s.text,
  }));
  const stats = [...fieldIndex.keys()].map((name) => ({ name, count: marks.filter((x) => x.field === name).length }));
  return {
    title: input.title, command: input.command, outcome: r.outcome, reason: r.reason, phase: r.phase, instructions: r.instructions,
    where: describeAddress(r, r.state.rip), ramSize, mapEnd, regions, marks, fields: stats, startup64: e?.startup64Phys ?? null,
    symbols, bytes, timeline: { end: r.instructions, phases, events },
    diff: d && {
      compared: d.bytesCompared, differing: d.bytesDiffering, shifted: d.bytesShifted ?? 0, virtDelta: h(d.virtDelta),
      ranges: d.ranges.map((x) => ({ phys: x.phys, length: x.length, where: x.where, vaddr: h(x.vaddr), expected: hexOf(x.expected), actual: hexOf(x.actual) })),
      shifts: (d.shifts ?? []).map((s) => ({ phys: s.phys, length: s.length, shift: s.shift, where: s.where, from: s.from })),
    },
    dump, chain, chainNote: input.chainNote ?? (r.outcome === 'crashed' ? 'no cause chain was computed' : 'only for crashes'), explanation: input.explanation ?? null,
    console: r.console, vga: r.vga,
    scenario: input.scenario ? { file: input.scenario.file, fix: input.scenario.fix, description: input.scenario.run.scenario.spec.description } : null,
  };
}

/** Guest-physical address of a linear address through the CPU's page tables at the stop. */
function physOf(r: BootResult, linear: bigint): number | null {
  try {
    return pageWalk(r.machine.cpu, linear, (a, n) => r.machine.ram.read(a, n)).phys;
  } catch {
    return null;
  }
}

function mergeWindows(w: [number, number][]): [number, number][] {
  w.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of w) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 16) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}
