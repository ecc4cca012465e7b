// The report page's shared browser-side helpers, created once by reportMain
// and handed to each view. (Browser code: each exported function here is
// serialized into the page with Function.prototype.toString, so it must not
// use anything outside its own body except its parameters and the DOM.)
import type { ReportData } from '../reportData.ts';

/** What the views share: formatting, the palette, the details panel, and moving the map. */
export interface ReportUi {
  data: ReportData;
  /** "0x1a2b" */
  hex(n: number): string;
  /** 1,234,567 */
  num(n: number): string;
  /** A byte count as "4 KiB", "1.5 MiB". */
  size(n: number): string;
  /** HTML-escaped text. */
  esc(s: string): string;
  /** The colour of a field's palette index. */
  color(i: number): string;
  /** The symbol at or below a guest-physical address (within 1 MiB), as "name+0xoff (stage)". */
  symbolAt(phys: number): string;
  /** Show key/value rows in the details panel under a heading. */
  showDetails(title: string, rows: [string, string][], actions?: { label: string; run: () => void }[]): void;
  /** Zoom the memory map to [start, end) and scroll it into view; `mark` highlights one mark. */
  focusMap(start: number, end: number, mark?: number): void;
  /** Registered by the memory map view. */
  onFocusMap: ((start: number, end: number, mark?: number) => void) | null;
}

/** Build the shared helpers. */
export function makeUi(data: ReportData): ReportUi {
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#ad494a', '#637939', '#843c39'];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const hex = (n: number) => '0x' + n.toString(16);
  const syms = data.symbols;
  const ui: ReportUi = {
    data, hex, esc,
    num: (n) => n.toLocaleString('en-US'),
    size: (n) => {
      const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
      let v = n, u = 0;
      while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
      return (u === 0 ? String(v) : v.toFixed(v < 10 && v % 1 !== 0 ? 1 : 0)) + ' ' + units[u];
    },
    color: (i) => (i < 0 ? '#111' : palette[i % palette.length]!),
    symbolAt: (phys) => {
      let lo = 0, hi = syms.length - 1, best = -1;
      while (lo <= hi) { const mid = (lo + hi) >> 1; if (syms[mid]!.phys <= phys) { best = mid; lo = mid + 1; } else hi = mid - 1; }
      if (best < 0) return '';
      const s = syms[best]!, off = phys - s.phys;
      if (off > 1 << 20) return '';
      return s.name + (off ? '+' + hex(off) : '') + ' (' + s.stage + ')';
    },
    showDetails: (title, rows, actions) => {
      const el = document.getElementById('details')!;
      el.innerHTML = '<button class="close" title="close" aria-label="close">×</button><h3>' + esc(title) + '</h3><table>' + rows.map(([k, v]) => '<tr><th>' + esc(k) + '</th><td>' + esc(v) + '</td></tr>').join('') + '</table>';
      el.querySelector('.close')!.addEventListener('click', () => { el.hidden = true; });
      for (const a of actions ?? []) {
        const b = document.createElement('button');
        b.textContent = a.label;
        b.addEventListener('click', a.run);
        el.appendChild(b);
      }
      el.hidden = false;
    },
    focusMap: (start, end, mark) => {
      ui.onFocusMap?.(start, end, mark);
      document.getElementById('map')!.scrollIntoView({ block: 'start' });
    },
    onFocusMap: null,
  };
  return ui;
}
