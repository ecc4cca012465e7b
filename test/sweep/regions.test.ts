// The regions a sweep covers come from the reference run (the default
// scenario without a stale frame, booted to x86_64_start_kernel): the new
// kernel's image, the decompressor's footprint after relocating itself, and
// everything purgatory and the decompressor touch. One reference run and one
// run with the stale frame at _text (step = the image's size in frames).
import { describe, it, expect, beforeAll } from 'vitest';
import { DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import { DEFAULT_BUDGET } from '../../src/run/prepare.ts';
import { runSweep, type SweepResult } from '../../src/analysis/sweep.ts';
import { framesOf, type SweepRange } from '../../src/analysis/sweepPlan.ts';
import { resultLines } from '../../src/analysis/sweepFile.ts';
import { formatSweepMap } from '../../src/analysis/sweepMap.ts';

let res: SweepResult;
beforeAll(async () => {
  res = await runSweep({ scenarioFile: DEFAULT_SCENARIO_PATH, over: 'image', step: 1_000_000, seeds: [2012], shifts: [0], budget: DEFAULT_BUDGET }, { workers: 0 });
});

const frames = (rs: SweepRange[]) => new Set(framesOf(rs, 1).map((f) => f.gfn));
const names = (rs: SweepRange[]) => new Set(rs.map((r) => r.what));

describe('sweep regions (default scenario, seed 2012)', () => {
  it('image: the reference run\'s [_text, _end), one run at its first frame', () => {
    const ref = res.references[0]!;
    expect(ref.outcome).toBe('reached');
    expect(ref.image).not.toBeNull();
    const [start, end] = ref.image!;
    expect(ref.regions.image).toEqual([{ start, end: Math.ceil(end / 4096) * 4096, what: 'new kernel [_text, _end)' }]);
    expect(ref.phases.decompressor).toBeGreaterThan(0);
    expect(ref.phases.kernel).toBeGreaterThan(ref.phases.decompressor!);
    expect(res.runs.map((r) => r.gfn)).toEqual([start / 4096]);
    const row = res.rows.get(0)!;
    expect(row.region).toBe('new kernel [_text, _end)');
    // Xen's shared_info page over the new kernel's first frame: never a clean boot
    expect(row.class).not.toBe('clean');
    console.log(`stale frame at _text (gfn 0x${row.gfn.toString(16)}): ${row.class} ${row.kind} ${row.where}`);
    expect(formatSweepMap(res)).toContain(`map (gfn of the first column; phase shift 0):\n    0x${row.gfn.toString(16)}  ${row.mark}  new kernel [_text, _end)`);
  });

  it('decompressor: its relocated parts, boot_params and its output; not its copy at kexec\'s load address, not purgatory', () => {
    const ref = res.references[0]!;
    const dec = ref.regions.decompressor;
    for (const n of ['decompressor head and compressed input', 'decompressor code', 'decompressor stack', 'decompressor heap', 'decompressor page tables',
      'kexec segment boot_params + cmdline', 'new kernel [_text, _end)']) expect(names(dec)).toContain(n);
    expect([...names(dec)].filter((n) => /purgatory|kexec segment kernel|before relocating|hand-off/.test(n))).toEqual([]);
    expect(frames(dec)).toEqual(new Set([...frames(ref.regions.image), ...frames(dec)])); // the image is inside
    // the parts the decompressor ELF names are where the layout says
    const code = ref.decompressorParts.find((p) => p.what === 'decompressor code')!;
    expect(frames(dec).has(Math.floor(code.start / 4096))).toBe(true);
  });

  it('footprint: the decompressor region and everything purgatory touched, kexec\'s segments included', () => {
    const ref = res.references[0]!;
    const foot = frames(ref.regions.footprint);
    for (const f of frames(ref.regions.decompressor)) expect(foot.has(f)).toBe(true);
    expect(names(ref.regions.footprint)).toContain('kexec segment purgatory');
    expect(names(ref.regions.footprint)).toContain('kexec segment kernel');
    const ascending = ref.regions.footprint.every((r, i, a) => i === 0 || a[i - 1]!.end <= r.start);
    expect(ascending).toBe(true);
  });

  it('JSON lines carry the regions in the header and what repeats each run', () => {
    const [header, run] = resultLines(res) as Record<string, unknown>[];
    expect((header as { references: { regions: unknown }[] }).references[0]!.regions).toEqual(res.references[0]!.regions);
    expect(run).toMatchObject({ type: 'run', index: 0, scenario: DEFAULT_SCENARIO_PATH, seed: 2012, shift: 0, budget: DEFAULT_BUDGET, region: 'new kernel [_text, _end)' });
  });
});
