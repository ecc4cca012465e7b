// The report as one self-contained HTML page: the data as JSON, the styles,
// the browser code (src/report/client/, serialized function by function) and
// the sections that need no script — the image diff as hex with vmlinux
// beside RAM, the cause chain, the dump, the console — rendered here. No
// network: nothing is loaded from anywhere.
import { readFileSync } from 'node:fs';
import { packageFile } from '../packageRoot.ts';
import type { ReportData } from './reportData.ts';
import { esc, htmlHead, inlineJson } from './html.ts';
import { makeUi } from './client/ui.ts';
import { memoryMapView } from './client/memoryMap.ts';
import { timelineView } from './client/timeline.ts';
import { reportMain } from './client/main.ts';

const hex = (n: number) => `0x${n.toString(16)}`;
const num = (n: number) => n.toLocaleString('en-US');

/** A link that moves the memory map to [start, end). */
const mapLink = (start: number, end: number, text: string, mark = -1) =>
  `<a href="#map" data-map-start="${start}" data-map-end="${end}"${mark >= 0 ? ` data-map-mark="${mark}"` : ''}>${esc(text)}</a>`;

function version(): string {
  try { return (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version; } catch { return '?'; }
}

/** The whole page. */
export function reportHtml(d: ReportData): string {
  // Browser code: each view is its own function, serialized and handed to reportMain (none refers to another by name).
  // `__name` is a no-op for transpilers that wrap nested functions to keep their names.
  const script = [
    'var __name = function (f) { return f; };',
    `(${reportMain.toString()})({ makeUi: (${makeUi.toString()}), memoryMapView: (${memoryMapView.toString()}), timelineView: (${timelineView.toString()}) });`,
  ].join('\n');
  const json = inlineJson(d);
  const sections: [string, string][] = [['map', 'Memory map'], ['timeline', 'Timeline'], ['diff', 'Image diff'], ['chain', 'Cause chain'], ['dump', 'Dump'], ['console', 'Console']];
  return `${htmlHead(d.title)}
<body>
<header>
  <h1>${esc(d.title)}</h1>
  <p class="outcome outcome-${esc(d.outcome)}"><span class="badge">${esc(d.outcome)}</span> ${esc(d.reason)} — after ${num(d.instructions)} instructions, in ${d.phase === 'kernel' ? 'the new kernel' : esc(d.phase)}, at <code>${esc(d.where)}</code></p>
  ${d.scenario ? `<p class="scenario">scenario <code>${esc(d.scenario.file)}</code>${d.scenario.fix ? ` with fix <b>${esc(d.scenario.fix)}</b>` : ''}: ${esc(d.scenario.description)}</p>` : ''}
  <p class="command"><code>${esc(d.command)}</code></p>
</header>
<nav>${sections.map(([id, t]) => `<a href="#${id}">${t}</a>`).join('')}</nav>
<main>
<section id="map">
  <h2>Guest physical memory</h2>
  <div class="toolbar">
    <button class="map-all" title="the whole map">all</button><button class="map-ram" title="guest RAM">RAM</button>
    <button class="map-out" title="zoom out">−</button><button class="map-in" title="zoom in">+</button>
    <form class="map-goto"><input placeholder="address, range or symbol" aria-label="address, range or symbol"><button>go</button></form>
    <span class="map-range"></span>
  </div>
  <div class="map-canvas"></div>
  <div class="map-status">&nbsp;</div>
  <p class="help">Wheel or +/− to zoom at the pointer, drag to pan, double-click a region to zoom to it, click anything for details. Symbols appear below 256 KiB, bytes (RAM at the end of the run, where the report captured them) below 4 KiB.</p>
  ${legend(d)}
</section>
<section id="timeline">
  <h2>Timeline (virtual clock: instructions retired)</h2>
  <div class="toolbar"><button class="timeline-all">all</button> <span class="timeline-range"></span></div>
  <div class="timeline-canvas"></div>
  ${eventList(d)}
</section>
<section id="diff">
  <h2>Image at the jump to startup_64: vmlinux beside RAM</h2>
  ${diffSection(d)}
</section>
<section id="chain">
  <h2>Cause chain</h2>
  ${chainSection(d)}
  ${d.explanation ? `<h3>Counterfactual explanation (the boot replayed without some of the hypervisor's writes)</h3><pre>${esc(d.explanation)}</pre>` : ''}
</section>
<section id="dump">
  <h2>Dump</h2>
  ${d.dump ? `<pre>${esc(d.dump)}</pre>` : '<p>The run reached its target: no dump.</p>'}
</section>
<section id="console">
  <h2>Console (16550)</h2>
  <pre class="console">${esc(d.console) || '<i>(nothing)</i>'}</pre>
  ${d.vga.some((l) => l.trim()) ? `<h3>VGA text</h3><pre class="console">${esc(d.vga.join('\n').trimEnd())}</pre>` : ''}
</section>
</main>
<aside id="details" hidden></aside>
<footer>bootpath ${esc(version())} — a self-contained report: everything is in this file.</footer>
<script type="application/json" id="report-data">${json}</script>
<script>${script}</script>
</body>
</html>
`;
}

function legend(d: ReportData): string {
  const kinds: [string, string][] = [['ram', 'e820 RAM'], ['reserved', 'e820 reserved'], ['segment', 'kexec segment'], ['handoff', 'hand-off page'],
    ['decompressor', 'decompressor (relocated copy)'], ['image', 'new kernel [_text, _end)'], ['load', 'vmlinux PT_LOAD'], ['wrote-purgatory', 'written by purgatory'], ['wrote-decompressor', 'written by the decompressor'], ['wrote-kernel', 'written by the kernel'],
    ['xen-frame', 'stale Xen frame'],
    ['diff', 'image differs'], ['shift', 'vmlinux displaced']];
  const present = new Set(d.regions.map((r) => r.kind));
  const fields = d.fields.map((f, i) => `<span class="field" data-color="${i}"><i class="swatch"></i>${esc(f.name)} ×${f.count}</span>`).join('');
  return `<div class="legend">${kinds.filter(([k]) => present.has(k)).map(([k, t]) => `<span class="kind"><i class="swatch kind-${k}"></i>${t}</span>`).join('')}</div>` +
    (fields ? `<div class="legend fields"><b>Xen writes by field:</b> ${fields}<span class="field"><i class="swatch guest"></i>first guest write into a stale frame</span></div>` : '');
}

function eventList(d: ReportData): string {
  const shown = d.timeline.events.filter((e) => e.kind !== 'xen-write');
  const xen = d.timeline.events.filter((e) => e.kind === 'xen-write').length;
  const rows = shown.map((e) => {
    const mk = e.mark !== undefined ? d.marks[e.mark] : undefined;
    const where = mk ? ` ${mapLink(mk.addr - 2048, mk.addr + 2048, 'show on the map', e.mark)}` : '';
    return `<li><span class="icount">${num(e.icount)}</span> ${esc(e.label)}${where}</li>`;
  });
  return `<ul class="events">${rows.join('')}</ul>${xen ? `<p>${num(xen)} hypervisor write(s): the coloured ticks above; click one for its field, bytes and where it landed.</p>` : ''}`;
}

function diffSection(d: ReportData): string {
  const df = d.diff;
  if (!df) return '<p>Not checked: the decompressor never jumped to startup_64.</p>';
  if (df.differing === 0) return `<p class="identical">Identical: ${num(df.compared)} bytes of vmlinux's PT_LOAD segments, relocated by ${esc(df.virtDelta)}, equal RAM at the jump to startup_64.</p>`;
  const L = [`<p>${num(df.differing)} of ${num(df.compared)} bytes differ from vmlinux (relocated by ${esc(df.virtDelta)})${df.shifted ? `; ${num(df.shifted)} of them are vmlinux displaced` : ''}, in ${num(df.ranges.length)} range(s).</p>`];
  if (df.shifts.length) {
    L.push('<ul class="shifts">' + df.shifts.map((s) => `<li>${mapLink(s.phys, s.phys + s.length, hex(s.phys))} +${num(s.length)}: RAM holds vmlinux's bytes from <code>${esc(s.from)}</code> displaced by ${s.shift} at <code>${esc(s.where)}</code></li>`).join('') + '</ul>');
  }
  for (const r of df.ranges.slice(0, 40)) {
    const rows: string[] = [];
    const n = r.expected.length / 2, shown = Math.min(n, 256);
    for (let off = 0; off < shown; off += 16) {
      const cells = (which: string, other: string) => {
        const out: string[] = [];
        for (let k = off; k < Math.min(off + 16, shown); k++) {
          const b = which.substr(k * 2, 2), o = other.substr(k * 2, 2);
          out.push(b === o ? b : `<mark>${b}</mark>`);
        }
        return out.join(' ');
      };
      rows.push(`<tr><td class="addr">${hex(r.phys + off)}</td><td class="hex expected">${cells(r.expected, r.actual)}</td><td class="hex actual">${cells(r.actual, r.expected)}</td></tr>`);
    }
    L.push(`<div class="diff-range" data-phys="${hex(r.phys)}"><h3>${mapLink(r.phys - 64, r.phys + r.length + 64, hex(r.phys))} +${num(r.length)} <code>${esc(r.where)}</code> <span class="vaddr">vaddr ${esc(r.vaddr)}</span></h3>` +
      `<table class="hexdiff"><thead><tr><th>phys</th><th>vmlinux (relocated)</th><th>RAM at startup_64</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
      (n > shown ? `<p class="more">… ${num(n - shown)} more byte(s) in this range</p>` : '') + '</div>');
  }
  if (df.ranges.length > 40) L.push(`<p class="more">… ${num(df.ranges.length - 40)} more range(s)</p>`);
  return L.join('\n');
}

function chainSection(d: ReportData): string {
  if (!d.chain.length) return `<p>${esc(d.chainNote)}.</p>`;
  return '<ol class="chain">' + d.chain.map((s) => {
    const where = s.rip ? `<code class="rip">${esc(s.rip)}</code> <code class="sym">&lt;${esc(s.where)}&gt;</code> ` : '';
    const insn = s.instruction ? `<code class="insn">${esc(s.instruction)}</code>` : '';
    const mark = s.kind === 'hypervisor' && s.address !== null ? d.marks.findIndex((m) => m.kind === 'xen-write' && m.icount === s.icount && s.address! >= m.addr && s.address! < m.addr + m.len) : -1;
    const at = s.address !== null ? ` ${mapLink(s.address - 32, s.address + 32, `at ${hex(s.address)}`, mark)}` : '';
    return `<li class="step kind-${esc(s.kind)}"><span class="badge">${esc(s.kind)}</span> <span class="icount">instruction ${num(s.icount)}</span> ${where}${insn}${at}` +
      (s.bytes ? ` <span class="bytes">${esc(s.bytes)}</span>` : '') + `<div class="text">${esc(s.text)}</div></li>`;
  }).join('') + '</ol>';
}
