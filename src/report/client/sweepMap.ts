// The sweep's outcome map (browser side): one block per seed; in a block, 64
// swept frames a line (gfn ascending, the first gfn at the left), one strip
// per phase shift; each cell coloured by its map character. A click opens the
// run: its class, where it stopped, where the frame is, and the command that
// reproduces it alone.
// (Serialized into the page: self-contained, see ui.ts.)
import type { SweepReportData } from '../sweepReport.ts';

/** Draw the map into `root`. */
export function sweepMapView(root: HTMLElement, d: SweepReportData): void {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const hex = (n: number) => '0x' + n.toString(16);
  const color = new Map(d.legend.map((l) => [l.mark, l.color]));
  const label = new Map(d.legend.map((l) => [l.mark, l.label]));
  const COLS = 64, cell = 14, left = 110, strip = cell + 1;
  const svgNs = 'http://www.w3.org/2000/svg';
  for (const seed of d.job.seeds) {
    const mine = d.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.seed === seed);
    const gfns = [...new Set(mine.map(({ c }) => c.gfn))].sort((a, b) => a - b);
    const shifts = d.job.shifts;
    const lines = Math.ceil(gfns.length / COLS);
    const lineH = shifts.length * strip + 8;
    const h3 = document.createElement('h3');
    h3.textContent = `seed ${seed}: ${gfns.length} frame${gfns.length === 1 ? '' : 's'}` + (shifts.length > 1 ? `, ${shifts.length} phase shifts (one strip each: ${shifts.join(', ')})` : '');
    root.appendChild(h3);
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('class', 'sweep-map');
    svg.setAttribute('data-seed', String(seed));
    svg.setAttribute('width', String(left + COLS * cell + 10));
    svg.setAttribute('height', String(lines * lineH + 4));
    const col = new Map(gfns.map((g, k) => [g, k]));
    const out: string[] = [];
    for (let l = 0; l < lines; l++) out.push(`<text class="lane-label" x="4" y="${l * lineH + cell - 2}">${hex(gfns[l * COLS]! * 4096)}</text>`);
    for (const { c, i } of mine) {
      const k = col.get(c.gfn)!, s = shifts.indexOf(c.shift);
      const x = left + (k % COLS) * cell, y = Math.floor(k / COLS) * lineH + Math.max(0, s) * strip;
      out.push(`<rect class="cell" data-index="${i}" data-gfn="${hex(c.gfn)}" data-mark="${esc(c.mark)}" data-class="${esc(c.class)}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${color.get(c.mark) ?? '#999'}"><title>${hex(c.gfn)}: ${esc(c.class)}${c.kind ? ` (${esc(c.kind)})` : ''}</title></rect>`);
    }
    svg.innerHTML = out.join('');
    root.appendChild(svg);
  }
  root.addEventListener('click', (ev) => {
    const t = (ev.target as Element).closest('.cell');
    if (!t) return;
    for (const s of root.querySelectorAll('.cell.selected')) s.classList.remove('selected');
    t.classList.add('selected');
    const c = d.cells[Number(t.getAttribute('data-index'))]!;
    const rows: [string, string][] = [
      ['frame', `gfn ${hex(c.gfn)} (${hex(c.gfn * 4096)}), ${c.region}`], ['seed, shift', `${c.seed}, ${c.shift}`],
      ['class', `${c.class}${c.kind ? ` (${c.kind})` : ''}: ${label.get(c.mark) ?? ''}`], ['where', c.where || '—'], ['reason', c.reason],
      ['frame is', c.frameIs || '—'], ['instructions', c.instructions.toLocaleString('en-US')], ['image', `${c.diffBytes} byte(s) differ`],
      ['Xen writes', `${c.xenWrites} (${c.xenWritesIntoKernel} into the new kernel after its entry)`], ['first guest write', c.firstGuestWrite ?? '—'],
    ];
    const el = document.getElementById('details')!;
    el.innerHTML = '<button class="close" aria-label="close">×</button><h3>Run ' + esc(hex(c.gfn)) + '</h3><table>' +
      rows.map(([k, v]) => '<tr><th>' + esc(k) + '</th><td>' + esc(v) + '</td></tr>').join('') +
      '</table><h3>Reproduce</h3><pre class="reproduce">' + esc(c.reproduce) + '</pre>' +
      (c.shift === 0 ? '<p class="help">Its memory map and cause chain: <code>bootpath repro --scenario &lt;copy&gt; --report run.html</code> with a copy of the scenario whose <code>"seed"</code> is ' + c.seed +
        ' and <code>"firstKernel": { "sharedInfo": "' + esc(hex(c.gfn * 4096)) + '" }</code>.</p>' : '');
    el.querySelector('.close')!.addEventListener('click', () => { el.hidden = true; });
    el.hidden = false;
  });
  document.body.setAttribute('data-ready', 'true');
}
