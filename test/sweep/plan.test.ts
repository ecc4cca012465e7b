// The sweep's pure parts: axes parsing, shards, the phase shift applied to a
// resolved scenario, region frames, map characters, the decompressor's error
// message, the map's text. No boots.
import { describe, it, expect } from 'vitest';
import { loadScenario, resolveScenario, DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import {
  framesOf, parseSeeds, parseShard, parseShifts, planRuns, inShard, shardFromEnv, withPhaseShift, reproduceCommand,
  type SweepJob, type SweepReference,
} from '../../src/analysis/sweepPlan.ts';
import { decompressorError, markOf, type SweepRow } from '../../src/analysis/sweepClassify.ts';
import { formatSweepMap } from '../../src/analysis/sweepMap.ts';
import type { SweepResult } from '../../src/analysis/sweep.ts';

describe('axes', () => {
  it('seeds: single, ranges, lists, in the order written', () => {
    expect(parseSeeds('2012')).toEqual([2012]);
    expect(parseSeeds('1..4,9')).toEqual([1, 2, 3, 4, 9]);
    expect(parseSeeds('0x10..0x11')).toEqual([16, 17]);
    expect(() => parseSeeds('4..1')).toThrow(/goes down/);
    expect(() => parseSeeds('1,1')).toThrow(/twice/);
    expect(() => parseSeeds('x')).toThrow(/not a seed/);
  });

  it('phase shifts: instructions, signed, durations through the clock, ranges with a step', () => {
    expect(parseShifts('0,250000,-1000', 1e9)).toEqual([0, 250000, -1000]);
    expect(parseShifts('0..1000000/250000', 1e9)).toEqual([0, 250000, 500000, 750000, 1000000]);
    expect(parseShifts('5ms,10us,7insn', 1e9)).toEqual([5_000_000, 10_000, 7]);
    expect(parseShifts('5ms', 5e8)).toEqual([2_500_000]);
    expect(() => parseShifts('0..10/0', 1e9)).toThrow(/step/);
    expect(() => parseShifts('soon', 1e9)).toThrow(/not a shift/);
  });

  it('shards: i/n from 1, or JOB_COMPLETION_INDEX + 1', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('0/3')).toThrow(/numbered from 1/);
    expect(() => parseShard('4/3')).toThrow(/1\.\.3/);
    expect(shardFromEnv(3, { JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 3 });
    expect(shardFromEnv(3, { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 3, count: 3 });
    expect(() => shardFromEnv(3, {})).toThrow(/JOB_COMPLETION_INDEX is not set/);
    expect(() => shardFromEnv(3, { JOB_COMPLETION_INDEX: '3' })).toThrow(/not in 0\.\.2/);
  });
});

describe('the phase shift', () => {
  const r = resolveScenario(loadScenario(DEFAULT_SCENARIO_PATH));
  it('moves every schedule and timer by the same number of instructions, and nothing else', () => {
    const s = withPhaseShift(r, 1_000_000);
    expect(s.config.timeUpdates.map((t) => t.every.phase)).toEqual(r.config.timeUpdates.map((t) => t.every.phase + 1_000_000));
    expect(s.config.sends.map((t) => t.every.phase)).toEqual(r.config.sends.map((t) => t.every.phase + 1_000_000));
    expect(s.config.wallclock!.every.phase).toBe(r.config.wallclock!.every.phase + 1_000_000);
    expect(s.config.timeUpdates.map((t) => [t.every.period, t.every.jitter])).toEqual(r.config.timeUpdates.map((t) => [t.every.period, t.every.jitter]));
    // the default clock: 1e9 instructions per second, so 1M instructions = 1 ms
    expect(s.state.timers.map((t) => (t.kind === 'singleshot' ? t.atNs : t.firstNs))).toEqual(r.state.timers.map((t) => (t.kind === 'singleshot' ? t.atNs : t.firstNs) + 1_000_000));
    expect(s.config.seed).toBe(r.config.seed);
    expect(r.config.timeUpdates[0]!.every.phase).toBe(250_000_000); // the original is untouched
  });
  it('clamps at instruction 0', () => {
    const s = withPhaseShift(r, -1e12);
    expect(s.config.timeUpdates.every((t) => t.every.phase === 0)).toBe(true);
    expect(withPhaseShift(r, 0)).toBe(r);
  });
});

const job: SweepJob = { scenarioFile: '/s.json', over: 'decompressor', step: 4, seeds: [7, 8], shifts: [0, 100], budget: 1000 };
const ref = (seed: number): SweepReference => ({
  seed, outcome: 'reached', reason: 'reached x86_64_start_kernel', instructions: 900, phases: { decompressor: 100, kernel: 800 },
  image: [0x1000000, 0x1003000], entry: { outputPhys: 0x1000000, linkBase: '0xffffffff81000000' }, load: [], decompressorParts: [],
  regions: {
    image: [{ start: 0x1000000, end: 0x1003000, what: 'new kernel [_text, _end)' }],
    decompressor: [{ start: 0x3000, end: 0x4000, what: 'boot_params' }, { start: 0x1000000, end: 0x1009000, what: 'new kernel [_text, _end)' }],
    footprint: [],
  },
});

describe('the run list', () => {
  const refs = new Map([[7, ref(7)], [8, ref(8)]]);
  it('every step-th frame of each region from its first; seed, then shift, then frame', () => {
    expect(framesOf(ref(7).regions.decompressor, 4).map((f) => f.gfn)).toEqual([0x3, 0x1000, 0x1004, 0x1008]);
    const runs = planRuns(job, refs);
    expect(runs.length).toBe(2 * 2 * 4);
    expect(runs.slice(0, 5).map((r) => [r.seed, r.shift, r.gfn])).toEqual([[7, 0, 3], [7, 0, 0x1000], [7, 0, 0x1004], [7, 0, 0x1008], [7, 100, 3]]);
    expect(runs.map((r) => r.index)).toEqual(runs.map((_, i) => i));
    expect(runs[0]!.region).toBe('boot_params');
  });
  it('shards partition the list', () => {
    const runs = planRuns(job, refs);
    const parts = [1, 2, 3].map((i) => runs.filter((r) => inShard(r, { index: i, count: 3 })).map((r) => r.index));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(runs.map((r) => r.index));
    expect(parts[1]).toEqual(runs.filter((r) => r.index % 3 === 1).map((r) => r.index));
  });
  it('each run says how to repeat it', () => {
    expect(reproduceCommand(job, { gfn: 0x1004, seed: 8, shift: 100 })).toBe('bootpath sweep --scenario /s.json --gfn-from 0x1004 --gfn-to 0x1004 --seeds 8 --phase-shift 100 --max-instructions 1000');
  });
});

describe('classes and the map', () => {
  it('map characters', () => {
    expect(markOf('clean', '', false, false)).toBe('.');
    expect(markOf('clean', '', true, false)).toBe(':');
    expect(markOf('crash', 'triple fault (#PF)', false, false)).toBe('T');
    expect(markOf('crash', 'triple fault (#GP)', false, true)).toBe('*');
    expect(markOf('crash', 'undelivered #GP', false, false)).toBe('G');
    expect(markOf('crash', 'undelivered #NM', false, false)).toBe('F');
    expect(markOf('hang', 'budget', false, false)).toBe('b');
    expect(markOf('hang', 'loop', false, false)).toBe('h');
    expect(markOf('decompressor-error', 'x', false, false)).toBe('E');
  });

  it("the decompressor's error() message", () => {
    expect(decompressorError('Decompressing Linux... Parsing ELF... \n\nCannot allocate memory\n\n -- System halted')).toBe('Cannot allocate memory');
    expect(decompressorError('I\'m in purgatory\n')).toBeNull();
  });

  it('prints one character per run, a row per shift, blanks for runs not here, and the counts', () => {
    const runs = planRuns(job, new Map([[7, ref(7)], [8, ref(8)]]));
    const rows = new Map<number, SweepRow>();
    for (const r of runs) {
      if (r.index === 5) continue; // another shard's
      const crash = r.seed === 8 && r.gfn === 0x1004 && r.shift === 100;
      rows.set(r.index, {
        gfn: r.gfn, seed: r.seed, shift: r.shift, region: r.region, class: crash ? 'crash' : 'clean', kind: crash ? 'triple fault (#PF)' : '',
        mark: crash ? 'T' : '.', where: crash ? 'kernel: startup_64+0x24' : '', reason: crash ? 'triple fault' : 'reached', phase: 'kernel', rip: '0x0',
        instructions: 1, diffBytes: 0, diffAt: null, bytesShifted: 0, imageShifts: [], xenWrites: 0, xenWritesIntoKernel: 0, latent: false, frameIs: '', firstGuestWrite: null, ms: 1,
      });
    }
    const res: SweepResult = { job, inputs: { scenarioSha256: '', kernelSha256: '' }, references: [ref(7), ref(8)], runs, shards: [], rows, stats: { workers: 1, seconds: 1, ran: 15, resumed: 0, retried: 0, files: [] } };
    const text = formatSweepMap(res);
    expect(text).toContain('2 seeds × 2 phase shifts = 16 runs');
    const lines = text.split('\n');
    const seed8 = lines.indexOf(lines.find((l) => l.startsWith('seed 8'))!);
    const map8 = lines.slice(seed8).filter((l) => /^\s+(0x\w+)?\s+shift \d+\s+[.T:-]+/.test(l));
    expect(map8.map((l) => l.trim())).toEqual([
      '0x3 shift 0    .    boot_params', 'shift 100  .',
      '0x1000 shift 0    ...  new kernel [_text, _end)', 'shift 100  .T.',
    ]);
    expect(text).toMatch(/^ {2}- {2}not run here.* 1$/m);
    expect(text).toMatch(/^ {2}T {2}crash: triple fault \(first #PF: 1\)\s+1$/m);
    expect(text).toContain('15 runs of 16: 14 clean, 0 silent, 0 shifted, 1 crash, 0 decompressor error, 0 hang');
  });

  it('starts a new map line where the frames are not contiguous, even within one name', () => {
    const r0 = ref(1);
    r0.regions.footprint = [{ start: 0x3000, end: 0x5000, what: 'boot_params' }, { start: 0x7000, end: 0x8000, what: 'boot_params' }];
    const j: SweepJob = { ...job, over: 'footprint', step: 1, seeds: [1], shifts: [0] };
    const runs = planRuns(j, new Map([[1, r0]]));
    const rows = new Map(runs.map((r) => [r.index, { mark: '.', class: 'clean', latent: false } as SweepRow]));
    const res: SweepResult = { job: j, inputs: { scenarioSha256: '', kernelSha256: '' }, references: [r0], runs, shards: [], rows, stats: { workers: 1, seconds: 1, ran: 3, resumed: 0, retried: 0, files: [] } };
    expect(formatSweepMap(res).split('\n').filter((l) => /^ {4}0x\w+ {2}/.test(l))).toEqual(['    0x3  ..  boot_params', '    0x7  .   boot_params']);
  });
});
