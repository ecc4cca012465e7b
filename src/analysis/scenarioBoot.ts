// A boot under a Xen scenario, run to its end, with the image check and the
// hypervisor's timeline placed on the boot's memory: where each Xen write
// and each first guest write into a stale frame landed.
import { describeAddress } from '../boot/phases.ts';
import { startScenario, type ScenarioOverrides } from '../run/scenarioRun.ts';
import type { BootOptions } from '../run/prepare.ts';
import type { XenTimeline } from '../xen/attach.ts';
import type { XenHypervisor } from '../xen/hypervisor.ts';
import type { ResolvedScenario } from '../xen/scenarioResolve.ts';
import type { StaleState } from '../xen/staleState.ts';
import { ImageCheck } from './imageCheck.ts';
import { FootprintRecorder, bootLayout } from '../run/footprint.ts';
import { decompressorRegions } from '../boot/decompressorLayout.ts';
import type { BootResult } from './checkedBoot.ts';

/** A scenario boot run to its end (bootScenario). */
export interface ScenarioRun {
  /** The boot's result, with the image check. */
  result: BootResult;
  /**
   * The hypervisor's writes and the guest's first writes into stale frames on
   * the virtual clock, each placed (`landed`: where in the boot's memory).
   */
  timeline: XenTimeline;
  /** The hypervisor model as the run left it. */
  xen: XenHypervisor;
  /** The resolved scenario. */
  scenario: ResolvedScenario;
  /** What the first kernel left registered with Xen (after overrides): the stale frames, event channels, timers. */
  state: StaleState;
  /** The boot's options (with the shim's hooks): re-running them repeats the run exactly (the cause chain does). */
  options: BootOptions;
  /** The new kernel's extent in guest-physical memory [start, end) ([_text, _end) at the decompressor's output), once known. */
  image: { start: number; end: number } | null;
}

/**
 * Boot a resolved scenario to its end with the image check, and place the
 * hypervisor's writes on the boot's memory (which kexec segment or kernel
 * symbol each landed in). `extras.layout`: also record which frames each
 * phase touched (the result's `layout`, as bootKexec's).
 */
export function bootScenario(r: ResolvedScenario, o: ScenarioOverrides = {}, extras: { layout?: boolean } = {}): ScenarioRun {
  const check = new ImageCheck();
  const rec = extras.layout ? new FootprintRecorder() : null;
  const boot = startScenario(r, o, rec ? [check, rec] : [check]);
  rec?.attach(boot.run);
  const result: BootResult = { ...boot.run.runToEnd(), imageDiff: check.diff };
  if (rec) {
    const dec = boot.run.prepared.decompressor;
    result.layout = bootLayout(boot.run, rec, dec ? decompressorRegions(boot.run.plan, boot.run.elf, dec) : []);
  }
  const x = boot.xen();
  const run: ScenarioRun = { result, timeline: x.attachment.timeline, xen: x.xen, scenario: r, state: boot.state, options: boot.options, image: null };
  placeWrites(run);
  return run;
}

/** Name where each hypervisor write and first guest write landed, now that the kernel's position is known. */
export function placeWrites(run: ScenarioRun): void {
  const res = run.result;
  const e = res.kernelEntry;
  const sym = res.symbols.table;
  const text = sym.lookup('_text'), end = sym.lookup('_end');
  if (e && text !== undefined && end !== undefined) {
    const start = e.outputPhys + Number(text - e.linkBase);
    run.image = { start, end: start + Number(end - text) };
  }
  const plan = res.plan;
  const where = (addr: number, after: boolean): string => {
    if (run.image && after && addr >= run.image.start && addr < run.image.end) {
      return `new kernel: ${sym.describe(e!.linkBase + BigInt(addr - e!.outputPhys))}`;
    }
    for (const s of plan.segments) if (addr >= s.mem && addr < s.mem + s.memsz) return `kexec segment ${s.name}+0x${(addr - s.mem).toString(16)}`;
    for (const b of plan.handoff.memory) if (addr >= b.addr && addr < b.addr + b.bytes.length) return `hand-off ${b.what}`;
    if (addr >= res.machine.ram.size) return 'outside RAM (Xen-only page)';
    if (run.image && addr >= run.image.start && addr < run.image.end) return `(future) new kernel: ${sym.describe(e!.linkBase + BigInt(addr - e!.outputPhys))}`;
    return 'RAM not used by the load';
  };
  for (const w of run.timeline.hypervisorWrites) {
    const after = e !== null && w.icount >= e.icount;
    w.landed = w.guestVisible ? where(w.addr, after) : 'outside RAM (Xen-only page)';
    w.inImageAfterEntry = after && run.image !== null && w.guestVisible && w.addr < run.image.end && w.addr + w.after.length > run.image.start;
  }
  for (const g of [...run.timeline.firstGuestWrite, ...run.timeline.firstGuestWriteToXenField]) {
    g.where = describeAddress({ symbols: res.symbols, kernelEntry: res.kernelEntry, plan: res.plan, phase: g.phase }, g.rip);
  }
}
