// The timeline on the virtual clock (browser side): the boot's phases as
// bands, then the hypervisor's writes (coloured by field, as on the map), the
// guest's first writes into stale frames, the jump to startup_64 and the end
// (the crash) as marks. Wheel zooms, drag pans, a click shows the event and
// offers to find it on the memory map.
// (Serialized into the page: self-contained, see ui.ts.)
import type { ReportUi } from './ui.ts';

/** Draw the timeline into `root` and keep it interactive. */
export function timelineView(root: HTMLElement, ui: ReportUi): void {
  const t = ui.data.timeline, marks = ui.data.marks;
  const xen = t.events.some((e) => e.kind === 'xen-write' || e.kind === 'guest-write');
  const rows = xen ? ['phases', 'Xen writes', 'guest writes', 'events'] : ['phases', 'events'];
  const eventsRow = rows.length - 1;
  const left = 110, rowH = 26, gap = 6, top = 8, axisH = 30;
  const height = top + rows.length * (rowH + gap) + axisH;
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('id', 'timeline-svg');
  svg.setAttribute('height', String(height));
  root.querySelector('.timeline-canvas')!.appendChild(svg);
  const end = Math.max(1, t.end);
  let lo = 0, hi = end;
  const width = () => Math.max(400, root.querySelector('.timeline-canvas')!.clientWidth);
  const plotW = () => width() - left - 10;
  const x = (i: number) => left + ((i - lo) / (hi - lo)) * plotW();
  const at = (px: number) => lo + ((px - left) / plotW()) * (hi - lo);
  const rowY = (k: number) => top + k * (rowH + gap);
  const short = (n: number) => (n >= 1e9 ? (n / 1e9).toFixed(2) + 'G' : n >= 1e6 ? (n / 1e6).toFixed(n >= 1e8 ? 0 : 1) + 'M' : n >= 1e3 ? (n / 1e3).toFixed(0) + 'k' : String(n));

  function setView(a: number, b: number): void {
    const span = Math.max(20, Math.min(end, b - a));
    const start = Math.max(0, Math.min(end - span, a));
    lo = start; hi = start + span;
    draw();
  }

  function draw(): void {
    const W = width();
    svg.setAttribute('width', String(W));
    svg.setAttribute('viewBox', `0 0 ${W} ${height}`);
    const out: string[] = [];
    rows.forEach((r, k) => {
      out.push(`<rect class="lane-bg" x="${left}" y="${rowY(k)}" width="${plotW()}" height="${rowH}"></rect><text class="lane-label" x="4" y="${rowY(k) + rowH / 2 + 4}">${r}</text>`);
    });
    for (const p of t.phases) {
      if (p.end < lo || p.start > hi) continue;
      const x0 = Math.max(left, x(p.start)), x1 = Math.min(left + plotW(), x(p.end));
      out.push(`<g class="phase phase-${p.name}" data-start="${p.start}" data-end="${p.end}"><rect x="${x0}" y="${rowY(0)}" width="${Math.max(1, x1 - x0)}" height="${rowH}"></rect>` +
        (x1 - x0 > p.name.length * 7 ? `<text x="${x0 + 4}" y="${rowY(0) + rowH / 2 + 4}">${p.name}</text>` : '') + `<title>${p.name}: instructions ${ui.num(p.start)} - ${ui.num(p.end)}</title></g>`);
    }
    t.events.forEach((e, k) => {
      if (e.icount < lo || e.icount > hi) return;
      const ex = x(e.icount);
      const attrs = `data-event="${k}" data-icount="${e.icount}"`;
      if (e.kind === 'xen-write') {
        const mk = marks[e.mark!]!;
        out.push(`<rect class="event xen-write" ${attrs} data-field="${ui.esc(mk.field)}" x="${(ex - 1.5).toFixed(2)}" y="${rowY(1) + 3}" width="3" height="${rowH - 6}" fill="${ui.color(mk.color)}"><title>${ui.esc(e.label)} at instruction ${ui.num(e.icount)}</title></rect>`);
      } else if (e.kind === 'guest-write') {
        out.push(`<path class="event guest-write" ${attrs} d="M${ex.toFixed(2)},${rowY(2) + 3} l6,10 l-6,10 l-6,-10 z"><title>${ui.esc(e.label)}</title></path>`);
      } else if (e.kind === 'kernel-entry' || e.kind === 'end' || e.kind === 'upcall') {
        const cls = e.kind === 'end' ? `end outcome-${ui.data.outcome}` : e.kind;
        const y = rowY(eventsRow);
        const endMark = ui.data.outcome === 'reached' ? `<circle cx="${ex - 7}" cy="${y + rowH / 2}" r="6"></circle>` : `<path d="M${ex - 13},${y + 6} l12,12 m0,-12 l-12,12"></path>`;
        out.push(`<g class="event ${cls}" ${attrs}><line x1="${ex}" x2="${ex}" y1="${y}" y2="${y + rowH}"></line>` +
          (e.kind === 'end' ? endMark : '') + `<title>${ui.esc(e.label)} (instruction ${ui.num(e.icount)})</title></g>`);
      }
    });
    const ay = rowY(rows.length);
    out.push(`<line class="axis" x1="${left}" x2="${left + plotW()}" y1="${ay}" y2="${ay}"></line>`);
    const target = Math.max(2, Math.floor(plotW() / 110));
    const raw = (hi - lo) / target, p10 = Math.pow(10, Math.floor(Math.log10(Math.max(1, raw))));
    const step = [1, 2, 5, 10].map((m) => m * p10).find((s) => s >= raw) ?? 10 * p10;
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      out.push(`<line class="tick" x1="${x(v)}" x2="${x(v)}" y1="${ay}" y2="${ay + 5}"></line><text class="tick-label" x="${x(v)}" y="${ay + 18}" text-anchor="middle">${short(v)}</text>`);
    }
    svg.innerHTML = out.join('');
    (root.querySelector('.timeline-range') as HTMLElement).textContent = `instructions ${ui.num(Math.round(lo))} - ${ui.num(Math.round(hi))}`;
  }

  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect(), a = at(ev.clientX - r.left), f = ev.deltaY > 0 ? 1.3 : 1 / 1.3;
    setView(a - (a - lo) * f, a + (hi - a) * f);
  }, { passive: false });
  let drag: { x: number; lo: number; hi: number; moved: boolean } | null = null;
  svg.addEventListener('pointerdown', (ev) => { drag = { x: ev.clientX, lo, hi, moved: false }; });
  window.addEventListener('pointerup', () => { setTimeout(() => { drag = null; }, 0); });
  svg.addEventListener('pointermove', (ev) => {
    if (!drag || !(ev.buttons & 1)) return;
    const dx = ev.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (drag.moved) { const per = (drag.hi - drag.lo) / plotW(); setView(drag.lo - dx * per, drag.hi - dx * per); }
  });
  svg.addEventListener('click', (ev) => {
    if (drag?.moved) return;
    const g = (ev.target as Element).closest('[data-event]');
    if (!g) return;
    const e = t.events[Number(g.getAttribute('data-event'))]!;
    const rows: [string, string][] = [['instruction', `${ui.num(e.icount)} (virtual clock)`], ['what', e.label]];
    const actions: { label: string; run: () => void }[] = [];
    if (e.mark !== undefined) {
      const mk = marks[e.mark]!;
      rows.unshift(['field', mk.field]);
      rows.push(['address', ui.hex(mk.addr)], ['landed', mk.landed || '(not placed)']);
      actions.push({ label: 'show on the memory map', run: () => ui.focusMap(mk.addr - 2048, mk.addr + 2048, e.mark) });
    }
    ui.showDetails(e.kind === 'xen-write' ? 'Hypervisor write' : e.kind === 'guest-write' ? 'First guest write into a stale frame' : 'Event', rows, actions);
  });
  root.querySelector('.timeline-all')!.addEventListener('click', () => setView(0, end));
  window.addEventListener('resize', () => draw());
  setView(0, end);
}
