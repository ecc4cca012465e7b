// A sweep as text: what was swept (regions from the reference runs), the map
// (one character per run: columns are the swept frames, gfn ascending, one
// row per phase shift, one block per seed), the legend with the count of
// each character, and the runs that did not end clean, folded. The text is
// a function of the rows alone (no wall times, no worker counts), so a
// merged sharded sweep prints the same as one process.
import type { SweepResult } from './sweep.ts';
import type { SweepRow } from './sweepClassify.ts';
import { framesOf, regionsOf, type PlannedRun } from './sweepPlan.ts';

/** The map's characters, in legend order. */
export const MAP_LEGEND: [string, string][] = [
  ['.', 'clean'],
  [':', 'clean, but the frame is inside the new kernel (latent: Xen writes there later)'],
  ['s', 'silent: reached, image differs from vmlinux or Xen wrote into it after entry'],
  ['~', 'shifted: reached, image is vmlinux displaced'],
  ['T', 'crash: triple fault'],
  ['*', 'crash: triple fault, image shifted'],
  ['G', 'crash: undelivered #GP'],
  ['P', 'crash: undelivered #PF'],
  ['U', 'crash: undelivered #UD'],
  ['D', 'crash: undelivered #DE'],
  ['S', 'crash: undelivered #SS'],
  ['F', 'crash: undelivered fault (other vector)'],
  ['E', 'decompressor error ("-- System halted")'],
  ['h', 'hang (hlt with interrupts off, or a loop)'],
  ['b', 'budget exhausted'],
  ['!', 'error: bootpath could not run it'],
  ['-', 'not run here (another shard\'s)'],
];

const COLUMNS = 64;
const hex = (n: number) => `0x${n.toString(16)}`;
const num = (n: number) => n.toLocaleString('en-US');
const ord = (n: number) => (n === 1 ? 'every frame' : `every ${n}${n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : n % 10 === 1 && n % 100 !== 11 ? 'st' : 'th'} frame`);

/** The header, regions, map, legend with counts and folded details of a sweep. */
export function formatSweepMap(res: SweepResult, o: { details?: number } = {}): string {
  const { job } = res;
  const L: string[] = [];
  const over = job.over === 'range' ? `gfns ${hex(job.range!.from)}-${hex(job.range!.to)}` : job.over;
  L.push(`sweep over ${over}, ${ord(job.step)} of each region; ${job.seeds.length} seed${job.seeds.length > 1 ? 's' : ''} × ${job.shifts.length} phase shift${job.shifts.length > 1 ? 's' : ''} = ${num(res.runs.length)} runs; budget ${num(job.budget)} instructions`);
  // A merged sweep prints as one process's; a shard says which it is.
  if (res.shards.length && res.rows.size < res.runs.length) L.push(`shard${res.shards.length > 1 ? 's' : ''} ${res.shards.map((s) => `${s.index}/${s.count}`).join(', ')}: ${num(res.rows.size)} of the ${num(res.runs.length)} runs`);
  const bySeedShift = new Map<string, PlannedRun[]>();
  for (const r of res.runs) {
    const k = `${r.seed}/${r.shift}`;
    let a = bySeedShift.get(k);
    if (!a) bySeedShift.set(k, a = []);
    a.push(r);
  }
  const shiftW = Math.max(...job.shifts.map((s) => `shift ${s}`.length));
  for (const ref of res.references) {
    const regions = regionsOf(job, ref);
    const frames = framesOf(regions, job.step);
    L.push('');
    L.push(`seed ${ref.seed}: reference run (no stale frame): ${ref.outcome}, ${ref.reason}, after ${num(ref.instructions)} instructions` +
      (ref.image ? `; new kernel [_text, _end) at ${hex(ref.image[0])}-${hex(ref.image[1])}` : ''));
    if (regions.length === 0) { L.push(`  no ${job.over} region: the reference run did not get that far within the budget`); continue; }
    L.push(`  regions (${num(regions.reduce((a, r) => a + (r.end - r.start) / 4096, 0))} frames, ${num(frames.length)} swept):`);
    for (const r of regions.slice(0, 40)) {
      const n = (r.end - r.start) / 4096;
      L.push(`    ${hex(r.start).padStart(12)}-${hex(r.end).padEnd(12)} ${num(n).padStart(6)} frame${n > 1 ? 's' : ' '} ${r.what}`);
    }
    if (regions.length > 40) L.push(`    … ${regions.length - 40} more (JSON lines: the header's references[].regions)`);
    // The map: chunks of at most COLUMNS frames, a new chunk where the region changes.
    const gw = Math.max(...frames.map((f) => hex(f.gfn).length));
    const chunks: { from: number; to: number; region: string; first: boolean }[] = [];
    // (a gap in the frames, as between two ranges of one name, also starts a chunk: each line's columns are contiguous)
    frames.forEach((f, i) => {
      const c = chunks[chunks.length - 1];
      const contiguous = i > 0 && frames[i - 1]!.gfn + job.step === f.gfn;
      if (c && c.region === f.region && contiguous && i - c.from < COLUMNS) c.to = i;
      else chunks.push({ from: i, to: i, region: f.region, first: !c || c.region !== f.region || !contiguous });
    });
    const width = Math.max(...chunks.map((c) => c.to - c.from + 1));
    L.push(`  map (gfn of the first column; ${job.shifts.length > 1 ? 'a row per phase shift' : `phase shift ${job.shifts[0]}`}):`);
    for (const c of chunks) {
      job.shifts.forEach((shift, si) => {
        const runs = bySeedShift.get(`${ref.seed}/${shift}`) ?? [];
        let line = '';
        for (let i = c.from; i <= c.to; i++) line += res.rows.get(runs[i]?.index ?? -1)?.mark ?? '-';
        const label = si === 0 ? hex(frames[c.from]!.gfn).padStart(gw) : ' '.repeat(gw);
        const sh = job.shifts.length > 1 ? ` ${`shift ${shift}`.padEnd(shiftW)}` : '';
        L.push(`    ${label}${sh}  ${line.padEnd(width)}${si === 0 && c.first ? `  ${c.region}` : ''}`.trimEnd());
      });
    }
  }
  L.push('');
  L.push(...formatCounts(res));
  const details = formatDetails(res, o.details ?? 30);
  if (details.length) { L.push(''); L.push(...details); }
  return L.join('\n');
}

/** One line per map character present: the character, its meaning (crash kinds and error messages spelled out), the count; then the totals per class. */
export function formatCounts(res: SweepResult): string[] {
  const rows = [...res.rows.values()];
  const L: string[] = ['legend and counts:'];
  const missing = res.runs.length - rows.length;
  for (const [ch, what] of MAP_LEGEND) {
    const these = ch === '-' ? [] : rows.filter((r) => r.mark === ch);
    const n = ch === '-' ? missing : these.length;
    if (n === 0) continue;
    const kinds = new Map<string, number>();
    if (/[T*GPUDSFEh]/.test(ch)) for (const r of these) { const k = r.kind.replace(/^triple fault \((.*)\)$/, 'first $1'); kinds.set(k, (kinds.get(k) ?? 0) + 1); }
    const ks = kinds.size > 1 || (kinds.size === 1 && /[T*EF]/.test(ch))
      ? ` (${[...kinds].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, c]) => `${k.length > 50 ? k.slice(0, 47) + '...' : k}: ${c}`).join('; ')}${kinds.size > 4 ? '; …' : ''})` : '';
    L.push(`  ${ch}  ${`${what}${ks}`.padEnd(60)} ${num(n).padStart(6)}`);
  }
  const c = (k: string) => rows.filter((r) => r.class === k).length;
  const latent = rows.filter((r) => r.class === 'clean' && r.latent).length;
  const parts = [`${num(c('clean'))} clean${latent ? ` (${num(latent)} latent)` : ''}`, `${num(c('silent'))} silent`, `${num(c('shifted'))} shifted`,
    `${num(c('crash'))} crash`, `${num(c('decompressor-error'))} decompressor error`, `${num(c('hang'))} hang`];
  if (c('error')) parts.push(`${num(c('error'))} error`);
  L.push(`${num(rows.length)} run${rows.length === 1 ? '' : 's'}${missing ? ` of ${num(res.runs.length)}` : ''}: ${parts.join(', ')}`);
  return L;
}

/** The runs that did not end clean, consecutive runs with the same outcome folded into one line. */
export function formatDetails(res: SweepResult, max: number): string[] {
  const multi = res.job.seeds.length > 1 || res.job.shifts.length > 1;
  const key = (r: SweepRow) => `${r.seed}|${r.shift}|${r.class}|${r.kind}|${r.where}`;
  const groups: { a: SweepRow; b: SweepRow; n: number }[] = [];
  let prev: SweepRow | null = null;
  for (const run of res.runs) {
    const row = res.rows.get(run.index);
    if (!row || row.class === 'clean') { prev = null; continue; }
    const g = groups[groups.length - 1];
    if (g && prev && key(prev) === key(row)) { g.b = row; g.n++; } else groups.push({ a: row, b: row, n: 1 });
    prev = row;
  }
  if (!groups.length) return [];
  const L = ['not clean (consecutive runs with the same outcome folded):'];
  const atW = Math.max(...groups.map((g) => `seed ${g.a.seed} shift ${g.a.shift}`.length));
  for (const g of groups.slice(0, max)) {
    const gfns = g.n === 1 ? hex(g.a.gfn) : `${hex(g.a.gfn)}-${hex(g.b.gfn)}`;
    const at = multi ? `seed ${g.a.seed} shift ${g.a.shift}`.padEnd(atW + 1) : '';
    const what = g.a.class === 'silent' ? `${g.a.diffBytes} bytes differ${g.a.diffAt ? ` at ${g.a.diffAt}` : ''}; ${g.a.xenWritesIntoKernel} Xen writes into the kernel after entry`
      : g.a.class === 'shifted' ? `${g.a.kind}: ${g.a.imageShifts.map((s) => `${s.where} (${s.by > 0 ? '+' : ''}${s.by}, ${s.bytes} bytes)`).join(', ')}`
      : g.a.class === 'error' ? g.a.reason.split('\n')[0]!
      : `${g.a.kind}${g.a.kind === g.a.reason ? '' : ` — ${g.a.reason}`} at ${g.a.where}`;
    L.push(`  ${g.a.mark} ${at}${gfns.padEnd(15)} ${g.a.class.padEnd(18)} ${what}${g.n > 1 ? ` (${g.n} runs)` : ''}`);
  }
  if (groups.length > max) L.push(`  … ${groups.length - max} more groups (JSON lines have every run)`);
  return L;
}
