// Scenario files: one JSON document naming the kernel to boot, the first
// kernel and its era (where it left Xen's frames), the domain's vcpus, the
// event channels and timers it left bound, and the hypervisor's schedule.
// The format is documented in docs/xen-shim.md; this file validates a parsed
// document and fills in defaults. Every error names the file, the field
// path and what is wrong; all errors of a file are reported together.

import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { VIRQ_NAMES, EVTCHN_2L_PORTS } from './abi.ts';
import { ERAS, type E820Type, type Era } from './firstKernel.ts';
import { ValueError, describe, parseAddress, parseDuration, parseSize, type Duration } from './scenarioValues.ts';

export const SCENARIO_FORMAT = 'bootpath-xen-scenario/1';
export const LOAD_METHODS = ['bzImage64', 'legacy32'] as const;
export type LoadMethod = (typeof LOAD_METHODS)[number];

export interface PeriodicSpec { period: Duration; phase: Duration; jitter: Duration; count?: number }

export interface EventSpec {
  port: number;
  vcpu: number;
  bind: 'virq' | 'interdomain' | 'ipi';
  /** virq number (bind 'virq'). */
  virq?: number;
  /** Who is on the other end (bind 'interdomain'), e.g. "xenstore"; or the IPI's name. */
  peer?: string;
  masked: boolean;
  pending: boolean;
  /** Others send on this port on a schedule. */
  send?: PeriodicSpec;
}

export type TimerSpec =
  | { vcpu: number; kind: 'periodic'; period: Duration; first: Duration }
  | { vcpu: number; kind: 'singleshot'; at: Duration };

export interface TimeUpdateSpec extends PeriodicSpec { vcpu: number; reason: string; spacing: Duration }
export interface WallclockSpec extends PeriodicSpec { spacing: Duration; driftNs: number }

export interface FirstKernelSpec {
  era: Era;
  systemMap?: string;
  vmlinux?: string;
  physBase: number;
  brkBytesBefore: number;
  platformMmioBase?: number;
  platformMmioOffset: number;
  sharedInfo?: number;
  vcpuInfo?: { vcpu: number; gpa: number }[];
  perCpuAreas?: number[];
  reserved?: { start: number; end: number }[];
  e820?: { start: number; end: number; type: E820Type }[];
}

export interface ClockSpec {
  instructionsPerSecond: number;
  tscPerInstruction: number;
  /** 'auto': the TSC counted since domain start (systemTimeAtStart x TSC frequency). */
  tscAtStart: number | 'auto';
  systemTimeAtStart: Duration;
}

export interface XenSpec {
  wcSecHi: boolean;
  timeFlags: number;
  upcallMask: number;
  timeVersion: number;
  wcVersion: number;
  wcSec: number;
  wcNsec: number;
}

/** A validated scenario with every default filled in. Paths are as written (see resolveScenario). */
export interface ScenarioSpec {
  /** The scenario file; relative paths in it resolve from its folder. */
  file: string;
  /** What the scenario is, in words. */
  description: string;
  /** The new kernel's bzImage: "bundled:<dir>/<file>" (under kernels/) or a path. */
  kernel: string;
  /** How kexec loads it: 'bzImage64', or 'legacy32' (the 32-bit entry kexec-tools used before 2.0.4). */
  load: LoadMethod;
  /** Guest RAM in bytes. */
  ramSize: number;
  /** The new kernel's command line (kexec's --command-line); absent: bootpath's default (console on ttyS0). */
  cmdline?: string;
  /** The seed of the machine's RNG and of the hypervisor's jitter. */
  seed: number;
  /** Virtual CPUs the first kernel ran (each with its vcpu_info). */
  vcpus: number;
  /** The kernel that ran before kexec: its era, symbols and placement decide where it left Xen's frames. */
  firstKernel: FirstKernelSpec;
  /** Event channels the first kernel bound, and what keeps signalling them. */
  events: EventSpec[];
  /** Xen timers the first kernel left armed. */
  timers: TimerSpec[];
  /** The hypervisor's vcpu_info time updates. */
  timeUpdates: TimeUpdateSpec[];
  /** The hypervisor's shared_info wallclock updates, or null. */
  wallclock: WallclockSpec | null;
  /** The clock model: instructions per second, TSC per instruction, the time at the start. */
  clock: ClockSpec;
  /** Initial values of Xen's structures (time and wallclock versions, flags, the upcall mask). */
  xen: XenSpec;
}

/** A scenario that fails validation: every problem, with its JSON path. An InputError (the CLI exits 2). */
export class ScenarioError extends InputError {
  constructor(readonly file: string, readonly problems: { path: string; message: string }[]) {
    super(`${file}: invalid scenario:\n` + problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n'));
  }
}

/** Reads, parses and validates a scenario file. */
export function loadScenario(file: string): ScenarioSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read scenario: ${(e as Error).message}`);
  }
  return parseScenario(text, file);
}

/** Parse and validate a scenario's JSON text; `file` names it in errors and is where its relative paths resolve from. */
export function parseScenario(text: string, file: string): ScenarioSpec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return validateScenario(doc, file);
}

// ---- the validator ------------------------------------------------------------

type Obj = Record<string, unknown>;

class Checker {
  readonly problems: { path: string; message: string }[] = [];
  fail(path: string, message: string): undefined {
    this.problems.push({ path, message });
    return undefined;
  }
  /** An object whose keys must all be in `known`. */
  obj(v: unknown, path: string, known: readonly string[]): Obj | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.fail(path, `expected an object, got ${describe(v)}`);
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) this.fail(join(path, k), `unknown field (known: ${known.join(', ')})`);
    }
    return v as Obj;
  }
  arr(v: unknown, path: string): unknown[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `expected an array, got ${describe(v)}`);
    return v;
  }
  int(v: unknown, path: string, lo: number, hi: number): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.fail(path, `expected a whole number, got ${describe(v)}`);
    if (v < lo || v > hi) return this.fail(path, `${v} is out of range (${lo} .. ${hi})`);
    return v;
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (typeof v !== 'boolean') return this.fail(path, `expected true or false, got ${describe(v)}`);
    return v;
  }
  str(v: unknown, path: string): string | undefined {
    if (typeof v !== 'string' || v === '') return this.fail(path, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }
  oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T | undefined {
    if (typeof v !== 'string' || !options.includes(v as T)) return this.fail(path, `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(v)}`);
    return v as T;
  }
  value<T>(v: unknown, path: string, parse: (v: unknown) => T): T | undefined {
    try {
      return parse(v);
    } catch (e) {
      if (e instanceof ValueError) return this.fail(path, e.message);
      throw e;
    }
  }
}

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

const TOP = ['format', 'description', 'kernel', 'load', 'ramSize', 'cmdline', 'seed', 'vcpus', 'firstKernel', 'events', 'timers', 'timeUpdates', 'wallclock', 'clock', 'xen'] as const;
const FIRST = ['era', 'systemMap', 'vmlinux', 'physBase', 'brkBytesBefore', 'platformMmioBase', 'platformMmioOffset', 'sharedInfo', 'vcpuInfo', 'perCpuAreas', 'reserved', 'e820'] as const;
const PERIODIC = ['period', 'phase', 'jitter', 'count'] as const;

export const DEFAULTS = {
  kernel: 'bundled:tiny-6.1/bzImage.gzip',
  load: 'bzImage64' as LoadMethod,
  ramSize: 512 * 2 ** 20,
  seed: 1,
  vcpus: 1,
  firstKernel: { era: 'linux-3.x' as Era, systemMap: 'bundled:tiny-6.1/System.map' },
  clock: { instructionsPerSecond: 1_000_000_000, tscPerInstruction: 3, tscAtStart: 'auto' as const, systemTimeAtStart: { ns: 300e9 } },
  xen: { wcSecHi: false, timeFlags: 0, upcallMask: 0, timeVersion: 600, wcVersion: 2, wcSec: 1_341_900_000, wcNsec: 0 },
};

/** Default event channels: what a 3.x PVonHVM guest typically had bound on vcpu 0. */
export function defaultEvents(): EventSpec[] {
  return [
    { port: 1, vcpu: 0, bind: 'interdomain', peer: 'xenstore', masked: false, pending: false },
    { port: 2, vcpu: 0, bind: 'interdomain', peer: 'console', masked: false, pending: false },
    { port: 3, vcpu: 0, bind: 'virq', virq: 0, masked: false, pending: false },
  ];
}

/** Default time updates: calibration about once a second on every vcpu, and schedule-ins on vcpu 0. */
export function defaultTimeUpdates(vcpus: number): TimeUpdateSpec[] {
  const out: TimeUpdateSpec[] = [];
  for (let v = 0; v < vcpus; v++) {
    out.push({ vcpu: v, reason: 'calibration', period: { ns: 1e9 }, phase: { ns: 250e6 + v * 10e6 }, jitter: { ns: 2e6 }, spacing: { insn: 0 } });
  }
  out.push({ vcpu: 0, reason: 'schedule-in', period: { ns: 30e6 }, phase: { ns: 7e6 }, jitter: { ns: 5e6 }, spacing: { insn: 0 } });
  return out;
}

export function validateScenario(doc: unknown, file: string): ScenarioSpec {
  const c = new Checker();
  const top = c.obj(doc, '', TOP) ?? {};
  if (top.format !== undefined && top.format !== SCENARIO_FORMAT) c.fail('format', `expected ${JSON.stringify(SCENARIO_FORMAT)}, got ${describe(top.format)}`);
  const opt = <T>(key: string, parse: (v: unknown, path: string) => T | undefined, dflt: T): T =>
    top[key] === undefined ? dflt : (parse(top[key], key) ?? dflt);

  const description = opt('description', (v, p) => (typeof v === 'string' ? v : c.fail(p, `expected a string, got ${describe(v)}`)), '');
  const kernel = opt('kernel', (v, p) => c.str(v, p), DEFAULTS.kernel);
  const load = opt('load', (v, p) => c.oneOf(v, p, LOAD_METHODS), DEFAULTS.load);
  const ramSize = opt('ramSize', (v, p) => {
    const n = c.value(v, p, parseSize);
    if (n === undefined) return undefined;
    if (n < 16 * 2 ** 20 || n > 2 ** 40) return c.fail(p, `${n} bytes is out of range (16M .. 1T)`);
    if (n % 4096) return c.fail(p, 'must be a whole number of 4 KiB pages');
    return n;
  }, DEFAULTS.ramSize);
  const seed = opt('seed', (v, p) => c.int(v, p, 0, 0xffffffff), DEFAULTS.seed);
  const cmdline = opt<string | undefined>('cmdline', (v, p) => c.str(v, p), undefined);
  const vcpus = opt('vcpus', (v, p) => c.int(v, p, 1, 128), DEFAULTS.vcpus);
  const vcpuIndex = (v: unknown, p: string) => c.int(v, p, 0, vcpus - 1);

  const firstKernel = validateFirstKernel(c, top.firstKernel, vcpuIndex);

  const periodic = (o: Obj, p: string, required: boolean): PeriodicSpec | undefined => {
    if (required && o.period === undefined) return c.fail(join(p, 'period'), 'missing (a duration such as "10ms")');
    const period = o.period === undefined ? undefined : c.value(o.period, join(p, 'period'), parseDuration);
    if (period && ('ns' in period ? period.ns : period.insn) <= 0) c.fail(join(p, 'period'), 'must be greater than 0');
    const phase = o.phase === undefined ? { ns: 0 } : c.value(o.phase, join(p, 'phase'), parseDuration);
    const jitter = o.jitter === undefined ? { ns: 0 } : c.value(o.jitter, join(p, 'jitter'), parseDuration);
    const count = o.count === undefined ? undefined : c.int(o.count, join(p, 'count'), 1, 1e9);
    if (!period || !phase || !jitter) return undefined;
    return count === undefined ? { period, phase, jitter } : { period, phase, jitter, count };
  };

  // events
  let events = defaultEvents();
  if (top.events !== undefined) {
    events = [];
    const ports = new Set<number>();
    (c.arr(top.events, 'events') ?? []).forEach((e, i) => {
      const p = join('events', i);
      const o = c.obj(e, p, ['port', 'vcpu', 'bind', 'virq', 'peer', 'masked', 'pending', 'send']);
      if (!o) return;
      if (o.port === undefined) c.fail(join(p, 'port'), 'missing (the event channel port number)');
      if (o.bind === undefined) c.fail(join(p, 'bind'), 'missing ("virq", "interdomain" or "ipi")');
      const port = o.port === undefined ? undefined : c.int(o.port, join(p, 'port'), 1, EVTCHN_2L_PORTS - 1);
      if (port !== undefined && ports.has(port)) c.fail(join(p, 'port'), `port ${port} is bound twice`);
      if (port !== undefined) ports.add(port);
      const vcpu = o.vcpu === undefined ? 0 : vcpuIndex(o.vcpu, join(p, 'vcpu'));
      const bind = o.bind === undefined ? undefined : c.oneOf(o.bind, join(p, 'bind'), ['virq', 'interdomain', 'ipi'] as const);
      let virq: number | undefined;
      if (bind === 'virq') {
        if (o.virq === undefined) c.fail(join(p, 'virq'), `missing for bind "virq" (${Object.keys(VIRQ_NAMES).join(', ')} or a number)`);
        else if (typeof o.virq === 'string') virq = VIRQ_NAMES[o.virq] ?? c.fail(join(p, 'virq'), `unknown VIRQ ${JSON.stringify(o.virq)} (known: ${Object.keys(VIRQ_NAMES).join(', ')})`);
        else virq = c.int(o.virq, join(p, 'virq'), 0, 23);
      } else if (o.virq !== undefined) c.fail(join(p, 'virq'), `only for bind "virq"`);
      const peer = o.peer === undefined ? undefined : c.str(o.peer, join(p, 'peer'));
      const masked = o.masked === undefined ? false : c.bool(o.masked, join(p, 'masked'));
      const pending = o.pending === undefined ? false : c.bool(o.pending, join(p, 'pending'));
      let send: PeriodicSpec | undefined;
      if (o.send !== undefined) {
        const so = c.obj(o.send, join(p, 'send'), PERIODIC);
        if (so) send = periodic(so, join(p, 'send'), true);
      }
      if (port === undefined || vcpu === undefined || bind === undefined || masked === undefined || pending === undefined) return;
      const ev: EventSpec = { port, vcpu, bind, masked, pending };
      if (virq !== undefined) ev.virq = virq;
      if (peer !== undefined) ev.peer = peer;
      if (send) ev.send = send;
      events.push(ev);
    });
  }

  // timers
  let timers: TimerSpec[] = [{ vcpu: 0, kind: 'singleshot', at: { ns: 4e6 } }];
  if (top.timers !== undefined) {
    timers = [];
    (c.arr(top.timers, 'timers') ?? []).forEach((t, i) => {
      const p = join('timers', i);
      const o = c.obj(t, p, ['vcpu', 'kind', 'period', 'first', 'at']);
      if (!o) return;
      const vcpu = o.vcpu === undefined ? 0 : vcpuIndex(o.vcpu, join(p, 'vcpu'));
      if (o.kind === undefined) { c.fail(join(p, 'kind'), 'missing ("periodic" or "singleshot")'); return; }
      const kind = c.oneOf(o.kind, join(p, 'kind'), ['periodic', 'singleshot'] as const);
      if (kind === 'periodic') {
        if (o.at !== undefined) c.fail(join(p, 'at'), 'only for kind "singleshot"');
        if (o.period === undefined) { c.fail(join(p, 'period'), 'missing (a duration such as "10ms")'); return; }
        const period = c.value(o.period, join(p, 'period'), parseDuration);
        if (period && ('ns' in period ? period.ns : period.insn) <= 0) c.fail(join(p, 'period'), 'must be greater than 0');
        const first = o.first === undefined ? period : c.value(o.first, join(p, 'first'), parseDuration);
        if (vcpu !== undefined && period && first) timers.push({ vcpu, kind, period, first });
      } else if (kind === 'singleshot') {
        if (o.period !== undefined) c.fail(join(p, 'period'), 'only for kind "periodic"');
        if (o.first !== undefined) c.fail(join(p, 'first'), 'only for kind "periodic"');
        if (o.at === undefined) { c.fail(join(p, 'at'), 'missing (when it fires, e.g. "4ms")'); return; }
        const at = c.value(o.at, join(p, 'at'), parseDuration);
        if (vcpu !== undefined && at) timers.push({ vcpu, kind, at });
      }
    });
  }

  // time updates
  let timeUpdates = defaultTimeUpdates(vcpus);
  if (top.timeUpdates !== undefined) {
    timeUpdates = [];
    (c.arr(top.timeUpdates, 'timeUpdates') ?? []).forEach((t, i) => {
      const p = join('timeUpdates', i);
      const o = c.obj(t, p, ['vcpu', 'reason', 'spacing', ...PERIODIC]);
      if (!o) return;
      if (o.vcpu === undefined) c.fail(join(p, 'vcpu'), 'missing (which vcpu\'s time Xen updates)');
      const vcpu = o.vcpu === undefined ? undefined : vcpuIndex(o.vcpu, join(p, 'vcpu'));
      const reason = o.reason === undefined ? 'calibration' : c.str(o.reason, join(p, 'reason'));
      const spacing = o.spacing === undefined ? { insn: 0 } : c.value(o.spacing, join(p, 'spacing'), parseDuration);
      const per = periodic(o, p, true);
      if (vcpu !== undefined && reason && spacing && per) timeUpdates.push({ vcpu, reason, spacing, ...per });
    });
  }

  // wallclock
  let wallclock: WallclockSpec | null = null;
  if (top.wallclock !== undefined && top.wallclock !== null) {
    const o = c.obj(top.wallclock, 'wallclock', ['spacing', 'driftNs', ...PERIODIC]);
    if (o) {
      const spacing = o.spacing === undefined ? { insn: 0 } : c.value(o.spacing, 'wallclock.spacing', parseDuration);
      const driftNs = o.driftNs === undefined ? 0 : c.int(o.driftNs, 'wallclock.driftNs', 0, 999_999_999);
      const per = periodic(o, 'wallclock', true);
      if (spacing && driftNs !== undefined && per) wallclock = { spacing, driftNs, ...per };
    }
  }

  // clock
  const clock: ClockSpec = { ...DEFAULTS.clock };
  if (top.clock !== undefined) {
    const o = c.obj(top.clock, 'clock', ['instructionsPerSecond', 'tscPerInstruction', 'tscAtStart', 'systemTimeAtStart']);
    if (o) {
      if (o.instructionsPerSecond !== undefined) clock.instructionsPerSecond = c.int(o.instructionsPerSecond, 'clock.instructionsPerSecond', 1_000_000, 100_000_000_000) ?? clock.instructionsPerSecond;
      if (o.tscPerInstruction !== undefined) clock.tscPerInstruction = c.int(o.tscPerInstruction, 'clock.tscPerInstruction', 1, 1000) ?? clock.tscPerInstruction;
      if (o.tscAtStart !== undefined) clock.tscAtStart = o.tscAtStart === 'auto' ? 'auto' : (c.int(o.tscAtStart, 'clock.tscAtStart', 0, Number.MAX_SAFE_INTEGER) ?? 'auto');
      if (o.systemTimeAtStart !== undefined) {
        const d = c.value(o.systemTimeAtStart, 'clock.systemTimeAtStart', parseDuration);
        if (d && 'insn' in d) c.fail('clock.systemTimeAtStart', 'give Xen system time in ns, us, ms or s (not insn)');
        else if (d) clock.systemTimeAtStart = d;
      }
    }
  }

  // xen
  const xen: XenSpec = { ...DEFAULTS.xen };
  if (top.xen !== undefined) {
    const o = c.obj(top.xen, 'xen', Object.keys(DEFAULTS.xen));
    if (o) {
      if (o.wcSecHi !== undefined) xen.wcSecHi = c.bool(o.wcSecHi, 'xen.wcSecHi') ?? xen.wcSecHi;
      if (o.timeFlags !== undefined) xen.timeFlags = c.int(o.timeFlags, 'xen.timeFlags', 0, 255) ?? xen.timeFlags;
      if (o.upcallMask !== undefined) xen.upcallMask = c.int(o.upcallMask, 'xen.upcallMask', 0, 1) ?? xen.upcallMask;
      if (o.timeVersion !== undefined) {
        const v = c.int(o.timeVersion, 'xen.timeVersion', 0, 0xffffffff);
        if (v !== undefined && v % 2) c.fail('xen.timeVersion', `${v} is odd: at kexec no update was in progress (use an even number)`);
        else if (v !== undefined) xen.timeVersion = v;
      }
      if (o.wcVersion !== undefined) {
        const v = c.int(o.wcVersion, 'xen.wcVersion', 0, 0xffffffff);
        if (v !== undefined && v % 2) c.fail('xen.wcVersion', `${v} is odd: use an even number`);
        else if (v !== undefined) xen.wcVersion = v;
      }
      if (o.wcSec !== undefined) xen.wcSec = c.int(o.wcSec, 'xen.wcSec', 0, 2 ** 40) ?? xen.wcSec;
      if (o.wcNsec !== undefined) xen.wcNsec = c.int(o.wcNsec, 'xen.wcNsec', 0, 999_999_999) ?? xen.wcNsec;
    }
  }

  if (c.problems.length) throw new ScenarioError(file, c.problems);
  return { file, description, kernel, load, ramSize, ...(cmdline !== undefined ? { cmdline } : {}), seed, vcpus, firstKernel: firstKernel!, events, timers, timeUpdates, wallclock, clock, xen };
}

function validateFirstKernel(c: Checker, v: unknown, vcpuIndex: (v: unknown, p: string) => number | undefined): FirstKernelSpec | undefined {
  const P = 'firstKernel';
  const dflt: FirstKernelSpec = { era: DEFAULTS.firstKernel.era, systemMap: DEFAULTS.firstKernel.systemMap, physBase: 0, brkBytesBefore: 0, platformMmioOffset: 0 };
  if (v === undefined) return dflt;
  const o = c.obj(v, P, FIRST);
  if (!o) return dflt;
  if (o.era === undefined) c.fail(join(P, 'era'), `missing (one of ${ERAS.join(', ')})`);
  const era = o.era === undefined ? dflt.era : (c.oneOf(o.era, join(P, 'era'), ERAS) ?? dflt.era);
  const out: FirstKernelSpec = { era, physBase: 0, brkBytesBefore: 0, platformMmioOffset: 0 };
  if (o.systemMap !== undefined && o.vmlinux !== undefined) c.fail(P, 'give systemMap or vmlinux, not both');
  if (o.systemMap !== undefined) { const s = c.str(o.systemMap, join(P, 'systemMap')); if (s) out.systemMap = s; }
  if (o.vmlinux !== undefined) { const s = c.str(o.vmlinux, join(P, 'vmlinux')); if (s) out.vmlinux = s; }
  const addr = (key: string) => (o[key] === undefined ? undefined : c.value(o[key], join(P, key), parseAddress));
  out.physBase = addr('physBase') ?? 0;
  if (o.brkBytesBefore !== undefined) out.brkBytesBefore = c.int(o.brkBytesBefore, join(P, 'brkBytesBefore'), 0, 64 * 2 ** 20) ?? 0;
  const mmio = addr('platformMmioBase');
  if (mmio !== undefined) {
    if (mmio % 4096) c.fail(join(P, 'platformMmioBase'), 'must be 4 KiB aligned');
    out.platformMmioBase = mmio;
  }
  if (o.platformMmioOffset !== undefined) {
    const off = c.int(o.platformMmioOffset, join(P, 'platformMmioOffset'), 0, 16 * 2 ** 20 - 4096);
    if (off !== undefined && off % 4096) c.fail(join(P, 'platformMmioOffset'), 'must be a multiple of 4096');
    out.platformMmioOffset = off ?? 0;
  }
  const si = addr('sharedInfo');
  if (si !== undefined) {
    if (si % 4096) c.fail(join(P, 'sharedInfo'), `0x${si.toString(16)} is not 4 KiB aligned (shared_info occupies a whole frame)`);
    out.sharedInfo = si;
  }
  if (o.vcpuInfo !== undefined) {
    out.vcpuInfo = [];
    (c.arr(o.vcpuInfo, join(P, 'vcpuInfo')) ?? []).forEach((e, i) => {
      const p = join(join(P, 'vcpuInfo'), i);
      const eo = c.obj(e, p, ['vcpu', 'gpa']);
      if (!eo) return;
      if (eo.vcpu === undefined) c.fail(join(p, 'vcpu'), 'missing');
      if (eo.gpa === undefined) c.fail(join(p, 'gpa'), 'missing (the guest physical address of the 64-byte vcpu_info)');
      const vcpu = eo.vcpu === undefined ? undefined : vcpuIndex(eo.vcpu, join(p, 'vcpu'));
      const gpa = eo.gpa === undefined ? undefined : c.value(eo.gpa, join(p, 'gpa'), parseAddress);
      if (gpa !== undefined && gpa % 4096 > 4096 - 64) c.fail(join(p, 'gpa'), `0x${gpa.toString(16)}: a vcpu_info must not cross a page (Xen refuses it)`);
      if (vcpu !== undefined && gpa !== undefined) {
        if (out.vcpuInfo!.some((x) => x.vcpu === vcpu)) c.fail(join(p, 'vcpu'), `vcpu ${vcpu} registered twice (Xen allows one registration per vcpu)`);
        out.vcpuInfo!.push({ vcpu, gpa });
      }
    });
  }
  if (o.perCpuAreas !== undefined) {
    out.perCpuAreas = (c.arr(o.perCpuAreas, join(P, 'perCpuAreas')) ?? []).map((e, i) => c.value(e, join(join(P, 'perCpuAreas'), i), parseAddress) ?? 0);
  }
  const range = (e: unknown, p: string, withType: boolean) => {
    const ro = c.obj(e, p, withType ? ['start', 'end', 'type'] : ['start', 'end']);
    if (!ro) return undefined;
    if (ro.start === undefined) c.fail(join(p, 'start'), 'missing');
    if (ro.end === undefined) c.fail(join(p, 'end'), 'missing');
    const start = ro.start === undefined ? undefined : c.value(ro.start, join(p, 'start'), parseAddress);
    const end = ro.end === undefined ? undefined : c.value(ro.end, join(p, 'end'), parseAddress);
    if (start !== undefined && end !== undefined && end <= start) c.fail(p, `end 0x${end.toString(16)} is not above start 0x${start.toString(16)}`);
    const type = withType ? (ro.type === undefined ? c.fail(join(p, 'type'), 'missing ("ram" or "reserved")') : c.oneOf(ro.type, join(p, 'type'), ['ram', 'reserved'] as const)) : 'ram';
    return start === undefined || end === undefined || type === undefined ? undefined : { start, end, type };
  };
  if (o.reserved !== undefined) {
    out.reserved = (c.arr(o.reserved, join(P, 'reserved')) ?? []).flatMap((e, i) => {
      const r = range(e, join(join(P, 'reserved'), i), false);
      return r ? [{ start: r.start, end: r.end }] : [];
    });
  }
  if (o.e820 !== undefined) {
    out.e820 = (c.arr(o.e820, join(P, 'e820')) ?? []).flatMap((e, i) => {
      const r = range(e, join(join(P, 'e820'), i), true);
      return r ? [r] : [];
    });
  }
  const needsSymbols = (era === 'linux-3.x' && o.sharedInfo === undefined) || (era === 'modern' && o.vcpuInfo === undefined);
  if (needsSymbols && !out.systemMap && !out.vmlinux) {
    c.fail(P, `era ${era} places Xen's frames from the first kernel's symbols: give systemMap or vmlinux (or explicit sharedInfo/vcpuInfo addresses)`);
  }
  return out;
}
