// A boot under a Xen scenario, as a run: the shim is installed before the
// loader writes the new kernel (kexec's copy went through Xen's mapping),
// the CPU's TSC follows the scenario's clock, and the shim's state follows
// the run's checkpoints.
import { BootMachine } from '../machine/bootMachine.ts';
import { takeSnapshot, type MachineSnapshot } from '../machine/snapshot.ts';
import { XenAttachment } from '../xen/attach.ts';
import { XenHypervisor } from '../xen/hypervisor.ts';
import type { ResolvedScenario } from '../xen/scenarioResolve.ts';
import type { StaleState } from '../xen/staleState.ts';
import { BootRun, type RunObserver } from './bootRun.ts';
import { loadPlan, loadedRanges, prepareKexec, type BootOptions, type PreparedKexec } from './prepare.ts';

/** Changes to a scenario for one run (sweeps, the gdb stub, tests). */
export interface ScenarioOverrides {
  /** Move the stale shared_info frame to this guest-physical page (sweeps); null: none. */
  sharedInfoGpa?: number | null;
  /** Replace the registered vcpu_info areas. */
  vcpuInfo?: { vcpu: number; gpa: number }[];
  /** Parsed kernel and a snapshot after loading (sweeps: each run restores it instead of loading). */
  prepared?: PreparedKexec;
  /** With `prepared`: the machine after loading (prepareScenario), restored instead of loading. */
  snapshot?: MachineSnapshot;
  /** The instruction budget (default DEFAULT_BUDGET). */
  maxInstructions?: number;
  /** As BootOptions.until (null: no target, a debugger drives the run). */
  until?: string | null;
  /** Called with each byte the guest writes to the serial port. */
  serial?: (byte: number) => void;
  /** Called every 50M instructions with where the run is. */
  progress?: BootOptions['progress'];
}

/** The Xen side of a scenario run, created when the machine is (before loading). */
export interface XenSide { attachment: XenAttachment; xen: XenHypervisor }

/** A scenario run ready to drive (startScenario): a BootRun with the Xen shim attached. */
export interface ScenarioBoot {
  /** The run: drive it (advance, runToEnd…) as any BootRun. */
  run: BootRun;
  /** The boot's options (with the shim's hooks): a new BootRun with them repeats the run exactly. */
  options: BootOptions;
  /** The stale state after overrides. */
  state: StaleState;
  /** The resolved scenario it runs. */
  scenario: ResolvedScenario;
  /** The Xen side: the shim's attachment (its timeline of writes) and the hypervisor, created with the run's machine. */
  xen(): XenSide;
}

/** The boot options a scenario implies. */
export function scenarioBootOptions(r: ResolvedScenario): BootOptions {
  return { kernel: r.kernelPath, entry: r.load === 'legacy32' ? 32 : 64, ramSize: r.ramSize, seed: r.spec.seed, ...(r.spec.cmdline !== undefined ? { cmdline: r.spec.cmdline } : {}) };
}

/** Parse and plan once, and snapshot the machine after loading (no Xen): the start of every run of a sweep. */
export function prepareScenario(r: ResolvedScenario): { prepared: PreparedKexec; snapshot: MachineSnapshot } {
  const prepared = prepareKexec(scenarioBootOptions(r));
  const m = new BootMachine({ ramSize: r.ramSize, seed: r.spec.seed });
  loadPlan(m, prepared.plan);
  return { prepared, snapshot: takeSnapshot(m, loadedRanges(prepared.plan)) };
}

export function resolvedWith(r: ResolvedScenario, o: ScenarioOverrides): StaleState {
  let state = r.state;
  if (o.sharedInfoGpa !== undefined) {
    const gpa = o.sharedInfoGpa;
    state = {
      ...state,
      sharedInfo: gpa === null ? null : { gpa, inRam: gpa + 4096 <= r.ramSize, label: `stale shared_info at gfn 0x${(gpa / 4096).toString(16)}` },
    };
  }
  if (o.vcpuInfo) state = { ...state, vcpuInfo: o.vcpuInfo.map((v) => ({ ...v, label: `registered vcpu_info of vcpu ${v.vcpu} at 0x${v.gpa.toString(16)}` })) };
  return state;
}

/** The options of a scenario boot: its BootOptions plus the hooks that install the shim; `created` receives the shim of each machine built with them. */
export function scenarioOptions(r: ResolvedScenario, o: ScenarioOverrides, state: StaleState, created: (m: BootMachine, x: XenSide) => void): BootOptions {
  let side: XenSide | null = null;
  return {
    ...scenarioBootOptions(r),
    until: o.until,
    maxInstructions: o.maxInstructions,
    serial: o.serial,
    progress: o.progress,
    prepared: o.prepared,
    snapshot: o.snapshot,
    beforeLoad: (m) => {
      const attachment = new XenAttachment(m);
      const xen = new XenHypervisor(attachment, attachment, state, r.config, { onUpcall: (v, at) => attachment.upcall(v, at) });
      xen.install();
      side = { attachment, xen };
      created(m, side);
    },
    prepare: (_m, _plan, ctx) => {
      side!.attachment.setContext(ctx);
      side!.attachment.configureTsc(r.config.clock);
    },
  };
}

/**
 * A run of a resolved scenario, ready to drive: the Xen shim is installed
 * before the loader writes the new kernel, its state follows the run's
 * checkpoints. `observers` as for BootRun (an ImageCheck…).
 */
export function startScenario(r: ResolvedScenario, o: ScenarioOverrides = {}, observers: RunObserver[] = []): ScenarioBoot {
  const state = resolvedWith(r, o);
  let side: XenSide | null = null;
  const options = scenarioOptions(r, o, state, (_m, x) => { side = x; });
  const run = new BootRun(options, observers);
  const x = side as unknown as XenSide;
  run.addStateRoot(x.attachment);
  run.addStateRoot(x.xen);
  return { run, options, state, scenario: r, xen: () => x };
}
