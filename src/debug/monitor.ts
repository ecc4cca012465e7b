// `monitor` commands: what only bootpath can answer about the boot under
// the debugger — time travel by instruction count, who wrote a byte, the
// cause chain of a crash, page walks, the hypervisor's writes, the phases
// and every stage's symbols. One table; each entry says how to use it.
import { Decoder, DecoderOptions, Code } from '../../emulator/iced.ts';
import { disassemble } from '../../emulator/index.ts';
import { BootRun } from '../run/bootRun.ts';
import type { MachineRun } from '../run/machineRun.ts';
import type { XenSide } from '../run/scenarioRun.ts';
import { formatPageWalk, pageWalk } from '../machine/pageWalk.ts';
import type { WriteRecord } from '../machine/provenance.ts';
import type { KernelEntry } from '../boot/phases.ts';
import { crashCauseChain } from '../analysis/crashChain.ts';
import { formatCauseChain } from '../analysis/causeChain.ts';
import { explainFailure, formatExplanation, scenarioCounterfactual } from '../analysis/explain.ts';
import { formatTimeline } from '../analysis/timeline.ts';
import { placeWrites, type ScenarioRun } from '../analysis/scenarioBoot.ts';
import type { ImageCheck } from '../analysis/imageCheck.ts';
import { formatSymbolFileLines, symbolFileLines, type SymbolFileLine } from './symbolFiles.ts';
import { formatWriter } from './writers.ts';
import { TargetError } from './target.ts';
import type { BootTarget } from './bootTarget.ts';

export interface MonitorContext {
  run: MachineRun;
  target: BootTarget;
  /** The image check observing the run (for the cause chain). */
  imageCheck?: ImageCheck;
  /** The Xen shim of a scenario run. */
  xen?: XenSide | null;
  scenario?: Pick<ScenarioRun, 'scenario' | 'state'>;
  decompressorElf?: string | null;
  purgatoryFile?: string;
  /** Symbol lines of a run that is not a kexec boot (a bare-metal program's ELF). */
  symbolLines?: SymbolFileLine[];
}

interface Command { usage: string; help: string; run(cx: MonitorContext, args: string[]): string | Promise<string> }

const n = (x: number) => x.toLocaleString('en-US');
const hex = (x: number | bigint) => `0x${x.toString(16)}`;

function parseNumber(s: string | undefined, what: string): bigint {
  if (s === undefined) throw new TargetError(`missing ${what}`);
  const t = s.replace(/[_,]/g, '');
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new TargetError(`${what} must be a number (decimal or 0x hex), not '${s}'`);
  return BigInt(t);
}

function where(cx: MonitorContext): string {
  const c = cx.run.machine.cpu, rip = c.getRip();
  const phase = cx.run instanceof BootRun ? cx.run.phase : 'running';
  return `instruction ${n(cx.run.icount)}, ${phase}, rip ${hex(rip)} <${cx.run.describe(rip)}>`;
}

/** The run as a kexec boot, for the commands that only make sense there. */
function boot(cx: MonitorContext, what: string): BootRun {
  if (!(cx.run instanceof BootRun)) throw new TargetError(`${what} is about kexec boots; this run is a bare-metal program`);
  return cx.run;
}

/** Consecutive bytes with the same writer, as lines. */
function formatWriters(cx: MonitorContext, addr: bigint, phys: number, writers: (WriteRecord | null)[]): string {
  const lines: string[] = [];
  for (let k = 0; k < writers.length;) {
    let e = k + 1;
    while (e < writers.length && writers[e] === writers[k]) e++;
    const w = writers[k];
    const range = e - k === 1 ? `${hex(addr + BigInt(k))}` : `${hex(addr + BigInt(k))}..${hex(addr + BigInt(e - 1))}`;
    const physNote = cx.target.physical ? '' : ` (phys ${hex(phys + k)})`;
    lines.push(`${range}${physNote}: ${w ? formatWriter(cx.run, w) : loadedBy(cx, phys + k)}`);
    k = e;
  }
  return lines.join('\n');
}

function loadedBy(cx: MonitorContext, phys: number): string {
  if (!(cx.run instanceof BootRun)) return 'not written during the run (the loader put it there, or zero)';
  const plan = cx.run.plan;
  for (const s of plan.segments) if (phys >= s.mem && phys < s.mem + s.memsz) return `not written during the run: the loader put it there (kexec segment ${s.name}+${hex(phys - s.mem)})`;
  for (const b of plan.handoff.memory) if (phys >= b.addr && phys < b.addr + b.bytes.length) return `not written during the run: the loader put it there (hand-off ${b.what})`;
  return 'not written during the run (zero since power-on)';
}

const COMMANDS: Record<string, Command> = {
  help: {
    usage: 'help', help: 'this list',
    run: () => Object.entries(COMMANDS).map(([, c]) => `monitor ${c.usage.padEnd(26)} ${c.help}`).join('\n'),
  },
  icount: {
    usage: 'icount', help: 'the virtual clock: instructions retired (a rep iteration counts as one), phase and rip',
    run: (cx) => where(cx),
  },
  goto: {
    usage: 'goto <icount>', help: 'travel to an exact instruction count, back or forth (then: maint flush register-cache)',
    run: (cx, a) => {
      const to = Number(parseNumber(a[0], 'an instruction count'));
      if (!cx.run.goto(to)) throw new TargetError(`instruction ${n(to)} is before the history's beginning (${n(cx.run.historyBegin)})`);
      const note = cx.run.icount !== to ? ` (the boot ended at ${n(cx.run.icount)}: ${cx.run.reason})` : '';
      return `${where(cx)}${note}`;
    },
  },
  'who-wrote': {
    usage: 'who-wrote <addr> [len]', help: 'the last writer of each byte before now: CPU instruction, loader, hypervisor field or gdb',
    run: (cx, a) => {
      const addr = parseNumber(a[0], 'an address');
      const len = a[1] === undefined ? 1 : Number(parseNumber(a[1], 'a length'));
      if (len < 1 || len > 4096) throw new TargetError('the length must be 1 to 4096');
      const phys = cx.target.toPhys(addr);
      if (phys === null) throw new TargetError(`${hex(addr)} is not mapped now (monitor phys on for physical addresses)`);
      const last = cx.target.toPhys(addr + BigInt(len - 1));
      if (last !== phys + len - 1) throw new TargetError(`${hex(addr)}+${len} is not physically contiguous`);
      return formatWriters(cx, addr, phys, cx.run.lastWriters(phys, len));
    },
  },
  chain: {
    usage: 'chain', help: 'the cause chain of the crash: from the faulting instruction back to the write that started it',
    run: (cx) => {
      const run = boot(cx, 'chain');
      if (run.outcome !== 'crashed') throw new TargetError(`the boot has not crashed (here: ${where(cx)})`);
      const result = { ...run.result(), imageDiff: cx.imageCheck?.diff ?? null };
      const steps = crashCauseChain(run.options, result);
      return steps.length ? formatCauseChain(steps) : 'no chain could be built';
    },
  },
  explain: {
    usage: 'explain', help: 'replay the scenario without the hypervisor\'s writes: the minimal set that causes the failure, the first instruction that differs',
    run: (cx) => {
      if (!cx.scenario) throw new TargetError('explain needs a Xen scenario (bootpath repro --gdb)');
      const e = explainFailure(scenarioCounterfactual(cx.scenario.scenario));
      return e ? formatExplanation(e) : 'nothing to explain: the scenario\'s boot reaches x86_64_start_kernel with an identical image';
    },
  },
  pagewalk: {
    usage: 'pagewalk <vaddr>', help: 'translate a linear address through the current page tables, every level shown',
    run: (cx, a) => {
      const m = cx.run.machine;
      return formatPageWalk(pageWalk(m.cpu, parseNumber(a[0], 'an address'), (x, k) => m.ram.read(x, k)));
    },
  },
  xen: {
    usage: 'xen', help: 'the stale Xen frames and the hypervisor\'s writes so far',
    run: (cx) => {
      if (!cx.xen || !cx.scenario) return 'no Xen scenario in this run';
      const run = boot(cx, 'xen');
      const sr: ScenarioRun = {
        result: { ...run.result(), imageDiff: cx.imageCheck?.diff ?? null }, timeline: cx.xen.attachment.timeline, xen: cx.xen.xen,
        scenario: cx.scenario.scenario, state: cx.scenario.state, options: run.options, image: null,
      };
      placeWrites(sr);
      const t = cx.xen.attachment.timeline.hypervisorWrites.filter((w) => w.event !== 'initial_state' && w.guestVisible);
      const recent = t.slice(-20).map((w) => `  [${n(w.icount)}] ${w.field} @ ${hex(w.addr)}${w.detail ? ` (${w.detail})` : ''} ⇒ ${w.landed}`);
      return `${formatTimeline(sr)}\nlast ${recent.length} hypervisor writes:\n${recent.join('\n')}`;
    },
  },
  disas: {
    usage: 'disas [count] [addr]', help: 'disassemble in the CPU\'s current mode (16/32/64-bit), with symbols: gdb\'s x/i is 64-bit only here',
    run: (cx, a) => {
      const c = cx.run.machine.cpu, bits = c.codeBits;
      const count = a[0] === undefined ? 8 : Number(parseNumber(a[0], 'a count'));
      if (count < 1 || count > 200) throw new TargetError('the count must be 1 to 200');
      const pc = a[1] !== undefined ? parseNumber(a[1], 'an address') : BigInt.asUintN(64, cx.target.readRegisterValue('rip'));
      const bytes = cx.target.readMemory(pc, count * 15);
      const lines: string[] = [];
      let off = 0;
      for (let k = 0; k < count && off < bytes.length; k++) {
        const at = pc + BigInt(off);
        const d = new Decoder(bits, bytes.subarray(off), DecoderOptions.None);
        const ins = d.decode();
        const len = ins.length, bad = ins.code === Code.INVALID;
        ins.free(); d.free();
        lines.push(`${k === 0 && a[1] === undefined ? '=> ' : '   '}${hex(at)} <${cx.run.describe(at)}>: ${disassemble(bytes.subarray(off), bits, at)}`);
        if (bad || len <= 0) break;
        off += len;
      }
      return `${bits}-bit code:\n${lines.join('\n')}`;
    },
  },
  phase: {
    usage: 'phase', help: 'where the boot is: purgatory, decompressor or kernel, and when each began',
    run: (cx) => {
      const run = boot(cx, 'phase');
      const ctx = run.context, e = ctx.kernelEntry;
      const lines = [where(cx)];
      for (const p of ['purgatory', 'decompressor', 'kernel'] as const) {
        const at = ctx.phaseStart[p];
        lines.push(`  ${p.padEnd(12)} ${at === undefined ? 'not yet' : `from instruction ${n(at)}`}`);
      }
      if (e) lines.push(`  kernel: decompressed to ${hex(e.outputPhys)}, startup_64 at ${hex(e.startup64Phys)}, KASLR virtual delta ${hex(e.virtDelta)}`);
      if (run.outcome) lines.push(`  the boot ended: ${run.outcome} (${run.reason})`);
      return lines.join('\n');
    },
  },
  phys: {
    usage: 'phys on|off', help: 'memory and watchpoint addresses are physical (on) or linear through the guest\'s paging (off)',
    run: (cx, a) => {
      if (a[0] === 'on') cx.target.physical = true;
      else if (a[0] === 'off') cx.target.physical = false;
      else if (a[0] !== undefined) throw new TargetError('phys takes on or off');
      return `memory addresses are ${cx.target.physical ? 'physical' : 'linear (through the guest\'s page tables)'}`;
    },
  },
  symbols: {
    usage: 'symbols', help: 'add-symbol-file commands for purgatory, the decompressor and vmlinux at this run\'s addresses',
    run: (cx) => {
      if (!(cx.run instanceof BootRun)) return cx.symbolLines?.map((l) => l.command).join('\n') ?? 'no symbols';
      const run = cx.run;
      return formatSymbolFileLines(symbolFileLines({
        plan: run.plan, elf: run.elf, purgatoryFile: cx.purgatoryFile, decompressorElf: cx.decompressorElf,
        vmlinuxFile: run.symbols.elfFile, kernelEntry: kernelEntryOf({ run }),
      }));
    },
  },
  history: {
    usage: 'history', help: 'the checkpoints reverse execution restores from',
    run: (cx) => {
      const s = cx.run.historyStats;
      if (!s) return 'no history: reverse execution is off';
      return `${s.count} checkpoints, ${(s.bytes / 1048576).toFixed(1)} MiB; from instruction ${n(s.icounts[0] ?? 0)} to ${n(s.icounts[s.icounts.length - 1] ?? 0)}`;
    },
  },
};

const scouted = new WeakMap<BootRun, KernelEntry | null>();

/** The kernel's placement: known once the run got there, else found by a run ahead to startup_64 (the boot is deterministic). */
export function kernelEntryOf(cx: { run: BootRun }): KernelEntry | null {
  if (cx.run.kernelEntry) return cx.run.kernelEntry;
  if (!scouted.has(cx.run)) {
    const o = cx.run.options;
    const scout = new BootRun({ ...o, until: 'startup_64', serial: undefined, progress: undefined });
    scout.runToEnd();
    scouted.set(cx.run, scout.kernelEntry);
  }
  return scouted.get(cx.run) ?? null;
}

export class MonitorCommands {
  constructor(private readonly cx: MonitorContext) {}

  get names(): string[] { return Object.keys(COMMANDS); }

  async run(line: string): Promise<string> {
    const [name, ...args] = line.trim().split(/\s+/);
    const cmd = COMMANDS[name ?? ''];
    if (!cmd) throw new TargetError(`unknown monitor command '${name ?? ''}' (monitor help lists them)`);
    try {
      return await cmd.run(this.cx, args);
    } catch (e) {
      if (e instanceof TargetError) throw e;
      throw new TargetError(`monitor ${name}: ${(e as Error).message}`);
    }
  }
}
