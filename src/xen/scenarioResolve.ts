// From a validated scenario to what the machine runs: file paths resolved,
// the first kernel's symbols read, its era's placement applied, the stale
// state built (emptied by a soft reset) and the hypervisor's schedule in
// instructions.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../packageRoot.ts';
import { parseSystemMap, symbolIndex } from '../boot/systemMap.ts';
import { readVmlinux } from '../boot/vmlinux.ts';
import { InputError } from '../errors.ts';
import { PlacementError, placeFirstKernel, type Placement } from './firstKernel.ts';
import type { HypervisorConfig, Periodic } from './hypervisor.ts';
import { ScenarioError, type LoadMethod, type PeriodicSpec, type ScenarioSpec } from './scenario.ts';
import type { Duration } from './scenarioValues.ts';
import { checkStaleState, softReset, type StaleState, type StaleTimer } from './staleState.ts';
import { nsToInstructions, tscHzOf, type ClockModel } from './xenTime.ts';

export const REPO_ROOT = PACKAGE_ROOT;

/** A scenario ready to run (resolveScenario). */
export interface ResolvedScenario {
  /** The scenario as validated. */
  spec: ScenarioSpec;
  /** The new kernel's bzImage, resolved to a path. */
  kernelPath: string;
  /** How kexec loads it ('bzImage64' or 'legacy32'). */
  load: LoadMethod;
  /** Guest RAM in bytes. */
  ramSize: number;
  /** Where the first kernel sat, and where its era put Xen's frames. */
  placement: Placement;
  /** What the first kernel left registered with Xen: stale shared_info and vcpu_info frames, event channels, timers. */
  state: StaleState;
  /** The hypervisor's configuration: the clock, its write and event schedule in instructions. */
  config: HypervisorConfig;
}

/**
 * A path in a scenario: "bundled:<dir>/<file>" names a file under the
 * repository's kernels/ folder; anything else is relative to the scenario
 * file's own folder (or absolute).
 */
export function resolveScenarioPath(p: string, scenarioFile: string, repoRoot = REPO_ROOT): string {
  if (p.startsWith('bundled:')) return resolve(repoRoot, 'kernels', p.slice('bundled:'.length));
  return isAbsolute(p) ? p : resolve(dirname(scenarioFile), p);
}

/** The first kernel's symbols from its System.map or vmlinux, if the scenario names one. */
export function readFirstKernelSymbols(spec: ScenarioSpec, repoRoot = REPO_ROOT): Map<string, bigint> | undefined {
  const fk = spec.firstKernel;
  if (fk.systemMap) {
    const path = resolveScenarioPath(fk.systemMap, spec.file, repoRoot);
    return symbolIndex(parseSystemMap(readText(path, spec.file, 'firstKernel.systemMap'), path));
  }
  if (fk.vmlinux) {
    const path = resolveScenarioPath(fk.vmlinux, spec.file, repoRoot);
    let data: Uint8Array;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new InputError(`${spec.file}: firstKernel.vmlinux: cannot read ${path}: ${(e as Error).message}`);
    }
    return symbolIndex(readVmlinux(data, path).symbols.map((s) => ({ name: s.name, address: s.value })));
  }
  return undefined;
}

/**
 * From a validated scenario to what the machine runs: paths resolved
 * ("bundled:" under the package's kernels/), the first kernel's symbols read
 * and its era's placement applied, the stale state built (emptied by a soft
 * reset), the hypervisor's schedule in instructions. Throws InputError for
 * files it cannot read or a placement that cannot be.
 */
export function resolveScenario(spec: ScenarioSpec, repoRoot = REPO_ROOT): ResolvedScenario {
  const clock = clockModel(spec);
  const fk = spec.firstKernel;
  let placement: Placement;
  try {
    placement = placeFirstKernel({
      era: fk.era,
      symbols: readFirstKernelSymbols(spec, repoRoot),
      physBase: fk.physBase,
      vcpus: spec.vcpus,
      brkBytesBefore: fk.brkBytesBefore,
      ...(fk.platformMmioBase !== undefined ? { platformMmioBase: fk.platformMmioBase } : {}),
      platformMmioOffset: fk.platformMmioOffset,
      ramSize: spec.ramSize,
      ...(fk.e820 ? { e820: fk.e820 } : {}),
      ...(fk.reserved ? { reserved: fk.reserved } : {}),
      ...(fk.sharedInfo !== undefined ? { sharedInfoGpa: fk.sharedInfo } : {}),
      ...(fk.vcpuInfo ? { vcpuInfoGpa: fk.vcpuInfo } : {}),
      ...(fk.perCpuAreas ? { perCpuAreaGpa: fk.perCpuAreas } : {}),
    });
  } catch (e) {
    if (e instanceof PlacementError) throw new ScenarioError(spec.file, [{ path: 'firstKernel', message: e.message }]);
    throw e;
  }

  const toNs = (d: Duration) => ('ns' in d ? d.ns : Math.round((d.insn * 1e9) / clock.instructionsPerSecond));
  const timers: StaleTimer[] = spec.timers.map((t) =>
    t.kind === 'periodic'
      ? { vcpu: t.vcpu, kind: 'periodic', periodNs: toNs(t.period), firstNs: toNs(t.first) }
      : { vcpu: t.vcpu, kind: 'singleshot', atNs: toNs(t.at) });

  let state: StaleState = {
    vcpus: spec.vcpus,
    sharedInfo: placement.sharedInfo ? { gpa: placement.sharedInfo.gpa, inRam: placement.sharedInfo.inRam, label: placement.sharedInfo.label } : null,
    vcpuInfo: placement.vcpuInfo.map((v) => ({ vcpu: v.vcpu, gpa: v.gpa, label: v.label })),
    ports: spec.events.map((e) => ({
      port: e.port,
      vcpu: e.vcpu,
      binding: e.bind === 'virq' ? { kind: 'virq', virq: e.virq ?? 0 } : e.bind === 'ipi' ? { kind: 'ipi', name: e.peer ?? 'ipi' } : { kind: 'interdomain', peer: e.peer ?? 'peer' },
      masked: e.masked,
      pending: e.pending,
    })),
    timers,
    content: { ...spec.xen },
  };
  if (fk.era === 'soft-reset') state = softReset(state);
  const problems = checkStaleState(state);
  if (problems.length) throw new ScenarioError(spec.file, problems.map((m) => ({ path: 'firstKernel', message: m })));

  const insn = (d: Duration) => ('insn' in d ? d.insn : nsToInstructions(clock, d.ns));
  const periodic = (p: PeriodicSpec): Periodic => {
    const out: Periodic = { period: Math.max(1, insn(p.period)), phase: insn(p.phase), jitter: insn(p.jitter) };
    if (p.count !== undefined) out.count = p.count;
    return out;
  };
  const config: HypervisorConfig = {
    clock,
    seed: spec.seed,
    timeUpdates: spec.timeUpdates.map((t) => ({ vcpu: t.vcpu, reason: t.reason, spacing: insn(t.spacing), every: periodic(t) })),
    wallclock: spec.wallclock ? { every: periodic(spec.wallclock), spacing: insn(spec.wallclock.spacing), driftNs: spec.wallclock.driftNs } : null,
    sends: spec.events.filter((e) => e.send).map((e) => ({ port: e.port, every: periodic(e.send!) })),
  };
  return {
    spec,
    kernelPath: resolveScenarioPath(spec.kernel, spec.file, repoRoot),
    load: spec.load,
    ramSize: spec.ramSize,
    placement,
    state,
    config,
  };
}

export function clockModel(spec: ScenarioSpec): ClockModel {
  const c = spec.clock;
  const sys = 'ns' in c.systemTimeAtStart ? c.systemTimeAtStart.ns : 0;
  const partial = { instructionsPerSecond: c.instructionsPerSecond, tscPerInstruction: c.tscPerInstruction, systemTimeAtStart: sys, tscAtStart: 0 };
  partial.tscAtStart = c.tscAtStart === 'auto' ? Math.round((sys / 1e9) * tscHzOf(partial)) : c.tscAtStart;
  return partial;
}

function readText(path: string, scenarioFile: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${scenarioFile}: ${field}: cannot read ${path}: ${(e as Error).message}`);
  }
}
