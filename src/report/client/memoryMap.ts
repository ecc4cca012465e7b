// The guest-physical memory map (browser side): one row per kind of thing —
// e820, kexec's segments and hand-off pages, the decompressor's copy, the new
// kernel, the Xen frames with the hypervisor's writes, the image diff — over
// a linear address axis that zooms from the whole map down to single bytes
// (symbols appear below 256 KiB, byte values below 4 KiB, hex digits below
// 96 bytes). In the Xen row each write sits at its address across and at its
// time down (early at the top), so repeated writes to one field stand apart.
// Wheel or +/- zoom around the pointer, drag pans, a double click zooms to a
// region, a click shows what is there.
// (Serialized into the page: self-contained, see ui.ts.)
import type { ReportUi } from './ui.ts';

/** Draw the map into `root` and keep it interactive. */
export function memoryMapView(root: HTMLElement, ui: ReportUi): void {
  const d = ui.data;
  const laneH = 30, gap = 6, left = 120, axisH = 34, top = 8;
  const has = (lane: string) => d.regions.some((r) => r.lane === lane);
  const lanes: { id: string; label: string; h: number }[] = [
    { id: 'e820', label: 'e820', h: laneH }, { id: 'kexec', label: 'kexec load', h: laneH }, { id: 'decompressor', label: 'decompressor', h: laneH },
    { id: 'kernel', label: 'new kernel', h: laneH }, { id: 'footprint', label: 'written by', h: laneH },
    { id: 'xen', label: 'Xen (time ↓)', h: d.marks.length ? 64 : laneH }, { id: 'diff', label: 'image diff', h: laneH },
    { id: 'symbols', label: 'symbols', h: laneH }, { id: 'bytes', label: 'bytes (end of run)', h: laneH },
  ].filter((l) => (l.id !== 'xen' || has('xen') || d.marks.length > 0) && (l.id !== 'footprint' || has('footprint')));
  const height = top + lanes.reduce((n, l) => n + l.h + gap, 0) + axisH;
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('id', 'map-svg');
  svg.setAttribute('height', String(height));
  root.querySelector('.map-canvas')!.appendChild(svg);
  const status = root.querySelector('.map-status') as HTMLElement;
  const rangeLabel = root.querySelector('.map-range') as HTMLElement;
  const laneY = (id: string) => { let y = top; for (const l of lanes) { if (l.id === id) return y; y += l.h + gap; } return y; };
  const laneHeight = (id: string) => lanes.find((l) => l.id === id)!.h;
  const fullEnd = d.mapEnd;
  let lo = 0, hi = fullEnd, highlight = -1;
  const width = () => Math.max(400, root.querySelector('.map-canvas')!.clientWidth);
  const plotW = () => width() - left - 10;
  const x = (a: number) => left + ((a - lo) / (hi - lo)) * plotW();
  const addrAt = (px: number) => lo + ((px - left) / plotW()) * (hi - lo);
  const bytesAt = (a: number): number | null => {
    for (const w of d.bytes) {
      const n = w.hex.length / 2;
      if (a >= w.start && a < w.start + n) return parseInt(w.hex.substr((a - w.start) * 2, 2), 16);
    }
    return null;
  };
  const niceStep = (span: number, target: number) => {
    const raw = span / target;
    let step = 1;
    while (step * 2 <= raw) step *= 2;
    while (step > raw && step > 1) step /= 2;
    return Math.max(1, step * (raw / step > 1.5 ? 2 : 1));
  };

  function setView(a: number, b: number): void {
    const minSpan = 16;
    let span = Math.max(minSpan, Math.min(fullEnd, b - a));
    let start = a;
    if (b - a < minSpan) start = (a + b) / 2 - span / 2;
    start = Math.max(0, Math.min(fullEnd - span, start));
    if (span > fullEnd) span = fullEnd;
    lo = Math.floor(start); hi = Math.ceil(start + span);
    draw();
  }

  function draw(): void {
    const W = width();
    svg.setAttribute('width', String(W));
    svg.setAttribute('viewBox', `0 0 ${W} ${height}`);
    const out: string[] = [];
    const span = hi - lo;
    for (const l of lanes) {
      const y = laneY(l.id);
      out.push(`<rect class="lane-bg" x="${left}" y="${y}" width="${plotW()}" height="${l.h}"></rect>`);
      out.push(`<text class="lane-label" x="4" y="${y + l.h / 2 + 4}">${ui.esc(l.label)}</text>`);
    }
    // Regions, in their lanes; several in one lane stack by size (smaller on top).
    const visible = d.regions.map((r, i) => ({ r, i })).filter(({ r }) => r.end > lo && r.start < hi)
      .sort((p, q) => (q.r.end - q.r.start) - (p.r.end - p.r.start));
    for (const { r, i } of visible) {
      const x0 = Math.max(left, x(r.start)), x1 = Math.min(left + plotW(), x(r.end));
      const w = Math.max(1.5, x1 - x0);
      const hgt = r.row ? laneHeight(r.lane) / r.row.of : laneHeight(r.lane);
      const y = laneY(r.lane) + (r.row ? r.row.index * hgt : 0);
      out.push(`<g class="region kind-${r.kind}" data-index="${i}" data-kind="${r.kind}" data-lane="${r.lane}" data-start="${ui.hex(r.start)}" data-end="${ui.hex(r.end)}" data-label="${ui.esc(r.label)}">` +
        `<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${hgt}"></rect>` +
        (w > r.label.length * 6.2 + 8 ? `<text x="${(x0 + 4).toFixed(2)}" y="${y + hgt / 2 + 4}">${ui.esc(r.label)}</text>` : '') +
        `<title>${ui.esc(r.label)}: ${ui.hex(r.start)}-${ui.hex(r.end)} (${ui.size(r.end - r.start)})</title></g>`);
    }
    // startup_64.
    if (d.startup64 !== null && d.startup64 >= lo && d.startup64 < hi) {
      const sx = x(d.startup64), y = laneY('kernel');
      out.push(`<g class="startup64" data-addr="${ui.hex(d.startup64)}"><line x1="${sx}" x2="${sx}" y1="${y - 3}" y2="${y + laneH + 3}"></line><text x="${sx + 3}" y="${y - 1}">startup_64</text></g>`);
    }
    // Marks: the hypervisor's writes (coloured by field) and the guest's first writes into stale frames, down by time.
    const xy = laneY('xen'), xh = laneHeight('xen'), tEnd = Math.max(1, d.timeline.end);
    d.marks.forEach((mk, i) => {
      if (mk.addr + mk.len <= lo || mk.addr >= hi) return;
      const mx = x(mk.addr), mw = Math.max(3, x(mk.addr + mk.len) - mx);
      const my = xy + 2 + (mk.icount / tEnd) * (xh - 10);
      const cls = `mark ${mk.kind}${i === highlight ? ' highlight' : ''}${mk.visible ? '' : ' invisible'}`;
      const attrs = `class="${cls}" data-mark="${i}" data-field="${ui.esc(mk.field)}" data-icount="${mk.icount}" data-addr="${ui.hex(mk.addr)}"`;
      if (mk.kind === 'xen-write') out.push(`<rect ${attrs} x="${mx.toFixed(2)}" y="${my.toFixed(2)}" width="${mw.toFixed(2)}" height="6" fill="${ui.color(mk.color)}"><title>${ui.esc(mk.field)} at instruction ${ui.num(mk.icount)}</title></rect>`);
      else out.push(`<path ${attrs} d="M${mx.toFixed(2)},${(my - 3).toFixed(2)} l5,6 l-5,6 l-5,-6 z"><title>${ui.esc(mk.field)} at instruction ${ui.num(mk.icount)}</title></path>`);
    });
    // Symbols, once the view is small enough to read them.
    const sy = laneY('symbols');
    if (span <= 256 * 1024) {
      const inView = d.symbols.filter((s) => s.phys >= lo && s.phys < hi);
      if (inView.length > 400) out.push(`<text class="hint" x="${left + 6}" y="${sy + laneH / 2 + 4}">${ui.num(inView.length)} symbols here: zoom in to name them</text>`);
      else {
        let lastLabel = -1e9;
        for (const s of inView) {
          const sx = x(s.phys);
          out.push(`<g class="symbol stage-${s.stage}" data-name="${ui.esc(s.name)}" data-addr="${ui.hex(s.phys)}"><line x1="${sx}" x2="${sx}" y1="${sy}" y2="${sy + 8}"></line>` +
            (sx > lastLabel ? `<text x="${sx + 2}" y="${sy + 20}">${ui.esc(s.name)}</text>` : '') + `<title>${ui.esc(s.name)} ${ui.hex(s.phys)} (${s.stage})</title></g>`);
          if (sx > lastLabel) lastLabel = sx + s.name.length * 6.8 + 8;
        }
      }
    } else out.push(`<text class="hint" x="${left + 6}" y="${sy + laneH / 2 + 4}">zoom below 256 KiB to see symbols</text>`);
    // Bytes.
    const by = laneY('bytes');
    if (span <= 4096) {
      const cw = plotW() / span;
      for (let a = lo; a < hi; a++) {
        const v = bytesAt(a), bx = x(a);
        const fill = v === null ? '#eee' : `hsl(210, 60%, ${96 - (v / 255) * 56}%)`;
        out.push(`<rect class="byte${v === null ? ' missing' : ''}" data-addr="${ui.hex(a)}" x="${bx.toFixed(2)}" y="${by}" width="${Math.max(0.5, cw - (cw > 6 ? 1 : 0)).toFixed(2)}" height="${laneH}" fill="${fill}"></rect>`);
        if (cw >= 17 && v !== null) out.push(`<text class="byte-text" x="${(bx + cw / 2).toFixed(2)}" y="${by + laneH / 2 + 4}" text-anchor="middle">${v.toString(16).padStart(2, '0')}</text>`);
      }
      if (!d.bytes.some((w) => w.start < hi && w.start + w.hex.length / 2 > lo)) out.push(`<text class="hint" x="${left + 6}" y="${by + laneH / 2 + 4}">bytes here were not captured in this report</text>`);
    } else out.push(`<text class="hint" x="${left + 6}" y="${by + laneH / 2 + 4}">zoom below 4 KiB to see bytes</text>`);
    // The axis.
    const ay = height - axisH;
    out.push(`<line class="axis" x1="${left}" x2="${left + plotW()}" y1="${ay}" y2="${ay}"></line>`);
    const step = niceStep(span, Math.max(2, Math.floor(plotW() / 130)));
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
      const tx = x(t);
      out.push(`<line class="tick" x1="${tx}" x2="${tx}" y1="${ay}" y2="${ay + 5}"></line><text class="tick-label" x="${tx}" y="${ay + 18}" text-anchor="middle">${ui.hex(t)}</text>`);
    }
    svg.innerHTML = out.join('');
    rangeLabel.textContent = `${ui.hex(lo)} - ${ui.hex(hi)} (${ui.size(hi - lo)})`;
  }

  // Interaction.
  const zoomAt = (a: number, factor: number) => setView(a - (a - lo) * factor, a + (hi - a) * factor);
  svg.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomAt(addrAt(ev.clientX - r.left), ev.deltaY > 0 ? 1.3 : 1 / 1.3);
  }, { passive: false });
  let drag: { x: number; lo: number; hi: number; moved: boolean } | null = null;
  svg.addEventListener('pointerdown', (ev) => { drag = { x: ev.clientX, lo, hi, moved: false }; });
  window.addEventListener('pointerup', () => { setTimeout(() => { drag = null; }, 0); });
  svg.addEventListener('pointermove', (ev) => {
    const r = svg.getBoundingClientRect(), px = ev.clientX - r.left;
    if (px >= left) {
      const a = Math.floor(addrAt(px));
      const v = bytesAt(a);
      status.textContent = `${ui.hex(a)}  ${ui.symbolAt(a)}${v !== null ? `  byte ${v.toString(16).padStart(2, '0')}` : ''}`;
    }
    if (drag && (ev.buttons & 1)) {
      const dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 3) drag.moved = true;
      if (drag.moved) {
        const per = (drag.hi - drag.lo) / plotW();
        setView(drag.lo - dx * per, drag.hi - dx * per);
      }
    }
  });
  svg.addEventListener('click', (ev) => {
    if (drag?.moved) return;
    const t = ev.target as Element;
    const mark = t.closest('[data-mark]');
    if (mark) { showMark(Number(mark.getAttribute('data-mark'))); return; }
    const g = t.closest('.region');
    if (g) {
      const r = d.regions[Number(g.getAttribute('data-index'))]!;
      ui.showDetails(r.label, [['range', `${ui.hex(r.start)} - ${ui.hex(r.end)}`], ['size', ui.size(r.end - r.start)], ['what', r.detail]],
        [{ label: 'zoom to it', run: () => setView(r.start - (r.end - r.start) * 0.05, r.end + (r.end - r.start) * 0.05) }]);
      return;
    }
    const s = t.closest('.symbol');
    if (s) ui.showDetails(s.getAttribute('data-name')!, [['address', s.getAttribute('data-addr')!]]);
  });
  svg.addEventListener('dblclick', (ev) => {
    const g = (ev.target as Element).closest('.region');
    if (!g) { const r = svg.getBoundingClientRect(); zoomAt(addrAt(ev.clientX - r.left), 0.25); return; }
    const r = d.regions[Number(g.getAttribute('data-index'))]!;
    setView(r.start - (r.end - r.start) * 0.05, r.end + (r.end - r.start) * 0.05);
  });

  function showMark(i: number): void {
    const mk = d.marks[i]!;
    highlight = i;
    draw();
    const rows: [string, string][] = [
      ['instruction', `${ui.num(mk.icount)} (virtual clock)`],
      ['address', `${ui.hex(mk.addr)} (${mk.len} byte${mk.len === 1 ? '' : 's'})`],
    ];
    if (mk.kind === 'xen-write') {
      rows.unshift(['field', mk.field]);
      rows.push(['before', mk.before.replace(/(..)/g, '$1 ').trim()], ['after', mk.after.replace(/(..)/g, '$1 ').trim()], ['landed', mk.landed || '(not placed)']);
      if (!mk.visible) rows.push(['note', 'a Xen-only page outside RAM: no effect on the guest']);
    } else rows.push(['by', mk.landed]);
    ui.showDetails(mk.kind === 'xen-write' ? 'Hypervisor write' : 'First guest write into a stale frame', rows,
      [{ label: 'zoom to its bytes', run: () => setView(mk.addr - 24, mk.addr + mk.len + 24) }]);
  }
  (root as HTMLElement & { showMark?: (i: number) => void }).showMark = showMark;

  root.querySelector('.map-all')!.addEventListener('click', () => setView(0, fullEnd));
  root.querySelector('.map-ram')!.addEventListener('click', () => setView(0, d.ramSize));
  root.querySelector('.map-in')!.addEventListener('click', () => zoomAt((lo + hi) / 2, 0.5));
  root.querySelector('.map-out')!.addEventListener('click', () => zoomAt((lo + hi) / 2, 2));
  root.querySelector('.map-goto')!.addEventListener('submit', (ev) => {
    ev.preventDefault();
    // "symbol", "0x1000", "0x1000-0x2000" or "0x1000+0x200".
    const v = (root.querySelector('.map-goto input') as HTMLInputElement).value.trim();
    const parse = (t: string) => {
      const sym = d.symbols.find((s) => s.name === t);
      return sym ? sym.phys : Number(t.startsWith('0x') || /[a-f]/i.test(t) ? parseInt(t.replace(/^0x/, ''), 16) : t);
    };
    const m = /^(\S+?)\s*([-+])\s*(\S+)$/.exec(v);
    if (m) {
      const a = parse(m[1]!), b = parse(m[3]!);
      if (Number.isFinite(a) && Number.isFinite(b)) setView(a, m[2] === '+' ? a + b : b);
      return;
    }
    const a = parse(v);
    if (Number.isFinite(a)) setView(a - 32, a + 32);
  });
  ui.onFocusMap = (start, end, mark) => {
    if (mark !== undefined) highlight = mark;
    setView(start, end);
    if (mark !== undefined) showMark(mark);
  };
  window.addEventListener('resize', () => draw());
  setView(0, fullEnd);
}
