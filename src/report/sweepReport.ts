// A sweep as one self-contained HTML page: the outcome map — one cell per run,
// the swept frames across (gfn ascending, 64 a line), one strip per phase
// shift, one block per seed, coloured by class — with each cell opening the
// run's details and the command that reproduces it alone; the legend with the
// counts; the regions the reference runs found.
import { writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import type { SweepResult } from '../analysis/sweep.ts';
import { MAP_LEGEND } from '../analysis/sweepMap.ts';
import { reproduceCommand } from '../analysis/sweepPlan.ts';
import { esc, htmlHead, inlineJson } from './html.ts';
import { sweepMapView } from './client/sweepMap.ts';

/** One run of the sweep as the page shows it. */
export interface SweepCell {
  gfn: number; seed: number; shift: number; region: string;
  /** The map character (MAP_LEGEND); '-' when this result does not hold the run (another shard's). */
  mark: string;
  class: string; kind: string; where: string; reason: string; frameIs: string;
  instructions: number; diffBytes: number; xenWrites: number; xenWritesIntoKernel: number; firstGuestWrite: string | null;
  /** The command that runs this one run again. */
  reproduce: string;
}

/** What the sweep page shows. */
export interface SweepReportData {
  title: string;
  command: string;
  job: { scenario: string; over: string; step: number; seeds: number[]; shifts: number[]; budget: number };
  cells: SweepCell[];
  /** Map characters with their meaning, colour and count (only those that occur). */
  legend: { mark: string; label: string; color: string; count: number }[];
  /** The regions of each seed's reference run. */
  regions: { seed: number; start: number; end: number; what: string }[];
}

/** The colour of each map character. */
const COLORS: Record<string, string> = {
  '.': '#cfe8c4', ':': '#8cc665', 's': '#fdae61', '~': '#fee08b', 'T': '#d73027', '*': '#a50026', 'G': '#f46d43', 'P': '#e34a33',
  'U': '#fc8d59', 'D': '#ef6548', 'S': '#d7301f', 'F': '#b30000', 'E': '#762a83', 'h': '#4575b4', 'b': '#74add1', '!': '#111111', '-': '#eeeeee',
};

export function sweepReportData(res: SweepResult, command: string): SweepReportData {
  const cells: SweepCell[] = res.runs.map((run) => {
    const row = res.rows.get(run.index);
    const base = { gfn: run.gfn, seed: run.seed, shift: run.shift, region: run.region, reproduce: reproduceCommand(res.job, run) };
    if (!row) return { ...base, mark: '-', class: 'not run here', kind: '', where: '', reason: 'another shard\'s run', frameIs: '', instructions: 0, diffBytes: 0, xenWrites: 0, xenWritesIntoKernel: 0, firstGuestWrite: null };
    return { ...base, mark: row.mark, class: row.class, kind: row.kind, where: row.where, reason: row.reason, frameIs: row.frameIs, instructions: row.instructions, diffBytes: row.diffBytes, xenWrites: row.xenWrites, xenWritesIntoKernel: row.xenWritesIntoKernel, firstGuestWrite: row.firstGuestWrite };
  });
  const count = (m: string) => cells.filter((c) => c.mark === m).length;
  const legend = MAP_LEGEND.filter(([m]) => count(m) > 0).map(([mark, label]) => ({ mark, label, color: COLORS[mark] ?? '#999', count: count(mark) }));
  const regions = res.references.flatMap((r) => r.regions[res.job.over === 'range' ? 'footprint' : res.job.over].map((g) => ({ seed: r.seed, ...g })));
  const j = res.job;
  return {
    title: `bootpath sweep over ${j.over === 'range' && j.range ? `gfn 0x${j.range.from.toString(16)}-0x${j.range.to.toString(16)}` : j.over}`,
    command, job: { scenario: j.scenarioFile, over: j.over, step: j.step, seeds: j.seeds, shifts: j.shifts, budget: j.budget }, cells, legend, regions,
  };
}


/** The sweep page. */
export function sweepReportHtml(d: SweepReportData): string {
  const json = inlineJson(d);
  const legend = d.legend.map((l) => `<span class="kind" data-mark="${esc(l.mark)}"><i class="swatch" style="background:${l.color}"></i><code>${esc(l.mark)}</code> ${esc(l.label)} <b>×${l.count}</b></span>`).join('');
  const regions = d.regions.map((r) => `<li>seed ${r.seed}: <code>0x${r.start.toString(16)}-0x${r.end.toString(16)}</code> ${esc(r.what)}</li>`).join('');
  return `${htmlHead(d.title, `
.sweep-canvas svg { cursor: default; }
.cell { cursor: pointer; stroke: #fff; stroke-width: 1; }
.cell.selected { stroke: #000; stroke-width: 2; }
pre.reproduce { white-space: pre-wrap; word-break: break-all; }
`)}
<body>
<header>
  <h1>${esc(d.title)}</h1>
  <p>${d.cells.length.toLocaleString('en-US')} runs: scenario <code>${esc(d.job.scenario)}</code>, every ${d.job.step === 1 ? '' : `${d.job.step}th `}frame, seeds ${d.job.seeds.join(', ')}, phase shifts ${d.job.shifts.join(', ')}, budget ${d.job.budget.toLocaleString('en-US')} instructions</p>
  <p class="command"><code>${esc(d.command)}</code></p>
</header>
<main>
<section id="sweep">
  <h2>Outcome of each run (click a cell for the run and the command that reproduces it)</h2>
  <div class="legend">${legend}</div>
  <div class="sweep-canvas"></div>
  ${regions ? `<h3>Swept regions (from each seed's reference run)</h3><ul class="events">${regions}</ul>` : ''}
</section>
</main>
<aside id="details" hidden></aside>
<footer>bootpath — a self-contained report: everything is in this file.</footer>
<script type="application/json" id="report-data">${json}</script>
<script>var __name = function (f) { return f; };
(${sweepMapView.toString()})(document.querySelector('.sweep-canvas'), JSON.parse(document.getElementById('report-data').textContent));</script>
</body>
</html>
`;
}

/** Write a sweep's report to `file`; returns its size in bytes. */
export function writeSweepReport(file: string, res: SweepResult, command: string): number {
  const html = sweepReportHtml(sweepReportData(res, command));
  try {
    writeFileSync(file, html);
  } catch (e) {
    throw new InputError(`--report ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return Buffer.byteLength(html);
}
