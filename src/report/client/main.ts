// The report page's entry (browser side): reads the data, builds the shared
// helpers and starts each view; links in the static sections ("show on the
// map") move the map.
// (Serialized into the page: self-contained, see ui.ts.)
import type { ReportData } from '../reportData.ts';
import type { ReportUi } from './ui.ts';

/** The views the page is built from, passed in by the page (each serialized on its own). */
export interface ReportViews {
  makeUi(data: ReportData): ReportUi;
  memoryMapView(root: HTMLElement, ui: ReportUi): void;
  timelineView(root: HTMLElement, ui: ReportUi): void;
}

/** Start the page. */
export function reportMain(views: ReportViews): void {
  const data = JSON.parse(document.getElementById('report-data')!.textContent!) as ReportData;
  const ui = views.makeUi(data);
  views.memoryMapView(document.getElementById('map')!, ui);
  views.timelineView(document.getElementById('timeline')!, ui);
  for (const f of document.querySelectorAll('.legend .field[data-color] .swatch')) {
    (f as HTMLElement).style.background = ui.color(Number(f.parentElement!.getAttribute('data-color')));
  }
  document.body.addEventListener('click', (ev) => {
    const a = (ev.target as Element).closest('[data-map-start]');
    if (!a) return;
    ev.preventDefault();
    const start = Number(a.getAttribute('data-map-start')), end = Number(a.getAttribute('data-map-end'));
    const mark = a.getAttribute('data-map-mark');
    ui.focusMap(start, end, mark === null ? undefined : Number(mark));
  });
  document.body.setAttribute('data-ready', 'true');
}
