// The report page's styles (inlined into the page).
export const REPORT_CSS = `
:root { --fg: #1d2430; --muted: #667085; --line: #d0d5dd; --bg: #fff; --panel: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 16px 24px 6px; background: var(--panel); }
header .scenario { max-width: 1100px; color: #344054; }
nav { position: sticky; top: 0; z-index: 2; background: var(--panel); padding: 8px 24px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 12px 0 6px; }
code, pre, .hex, .addr, .icount, .map-status, .map-range, .timeline-range { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
header p { margin: 3px 0; }
.command code { color: var(--muted); }
nav a { margin-right: 14px; color: #175cd3; text-decoration: none; }
main { padding: 8px 24px 120px; }
section { padding: 14px 0 18px; border-bottom: 1px solid var(--line); scroll-margin-top: 44px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; background: #eaecf0; }
.outcome-reached .badge { background: #d1fadf; color: #05603a; }
.outcome-crashed .badge { background: #fee4e2; color: #b42318; }
.outcome-hung .badge, .outcome-budget .badge { background: #fef0c7; color: #93370d; }
.toolbar { display: flex; gap: 6px; align-items: center; margin-bottom: 6px; flex-wrap: wrap; }
.toolbar button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.toolbar form { display: inline-flex; gap: 4px; }
.toolbar input { font: inherit; width: 200px; padding: 2px 6px; border: 1px solid var(--line); border-radius: 4px; }
.map-range, .timeline-range { color: var(--muted); margin-left: 8px; }
.map-canvas, .timeline-canvas { width: 100%; overflow: hidden; border: 1px solid var(--line); border-radius: 4px; background: #fff; user-select: none; }
svg { display: block; cursor: grab; }
svg text { font-size: 11px; fill: var(--fg); pointer-events: none; }
.lane-bg { fill: #fafbfc; }
.lane-label { fill: var(--muted); font-weight: 600; }
.region rect { stroke: rgba(0,0,0,.35); stroke-width: .5; cursor: pointer; }
.region text { fill: #fff; font-weight: 600; }
.kind-ram rect, .swatch.kind-ram { fill: #dcebd2; background: #dcebd2; }
.kind-ram text, .kind-reserved text { fill: #344054; }
.kind-reserved rect, .swatch.kind-reserved { fill: #c4c9d1; background: #c4c9d1; }
.kind-segment rect, .swatch.kind-segment { fill: #3b6ea8; background: #3b6ea8; }
.kind-handoff rect, .swatch.kind-handoff { fill: #4f9a94; background: #4f9a94; }
.kind-decompressor rect, .swatch.kind-decompressor { fill: #e07b22; background: #e07b22; }
.kind-image rect, .swatch.kind-image { fill: #3f8a3a; background: #3f8a3a; }
.kind-load rect, .swatch.kind-load { fill: #8cd17d; background: #8cd17d; }
.kind-load text { fill: #1d2430; }
.kind-wrote-purgatory rect, .swatch.kind-wrote-purgatory { fill: #3b6ea8; background: #3b6ea8; opacity: .8; }
.kind-wrote-decompressor rect, .swatch.kind-wrote-decompressor { fill: #e07b22; background: #e07b22; opacity: .8; }
.kind-wrote-kernel rect, .swatch.kind-wrote-kernel { fill: #3f8a3a; background: #3f8a3a; opacity: .8; }
.kind-xen-frame rect, .swatch.kind-xen-frame { fill: #fbe3e1; background: #fbe3e1; stroke: #c9302c !important; stroke-width: 1.5 !important; }
.kind-xen-frame text { fill: #9b1c1c; }
.kind-diff rect, .swatch.kind-diff { fill: #e31a1c; background: #e31a1c; }
.kind-shift rect, .swatch.kind-shift { fill: #f7a29f; background: #f7a29f; }
.startup64 line { stroke: #000; stroke-width: 1.5; stroke-dasharray: 3 2; }
.startup64 text { font-weight: 600; }
.mark { cursor: pointer; stroke: rgba(0,0,0,.5); stroke-width: .5; }
.mark.invisible { opacity: .45; }
.mark.guest-write, .event.guest-write { fill: #111; }
.mark.highlight { stroke: #000; stroke-width: 2.5; }
.symbol line { stroke: #555; }
.symbol.stage-purgatory line { stroke: #3b6ea8; }
.symbol.stage-decompressor line { stroke: #e07b22; }
.byte.missing { fill: #f0f0f0; }
.byte-text { font-size: 11px; }
.axis, .tick { stroke: #98a2b3; }
.tick-label { fill: var(--muted); }
.hint { fill: var(--muted); font-style: italic; }
.phase rect { stroke: #fff; }
.phase-purgatory rect { fill: #3b6ea8; } .phase-decompressor rect { fill: #e07b22; } .phase-kernel rect { fill: #3f8a3a; }
.phase text { fill: #fff; font-weight: 600; }
.event { cursor: pointer; }
.event line { stroke: #111; stroke-width: 2; }
.event.end path { stroke: #b42318; stroke-width: 3; }
.event.end circle { fill: #05603a; }
.event.end line { stroke: #b42318; }
.event.end.outcome-reached line { stroke: #05603a; }
.event.upcall line { stroke: #9467bd; stroke-width: 1; }
.map-status { color: var(--muted); min-height: 1.5em; margin-top: 4px; }
.help { color: var(--muted); font-size: 12.5px; margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12.5px; margin-top: 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -2px; border: 1px solid rgba(0,0,0,.3); }
.swatch.guest { background: #111; transform: rotate(45deg) scale(.8); }
ul.events { list-style: none; padding: 0; margin: 10px 0 0; font-size: 13px; }
ul.events .icount, .chain .icount { color: var(--muted); display: inline-block; min-width: 110px; text-align: right; margin-right: 10px; }
table.hexdiff { border-collapse: collapse; }
table.hexdiff td, table.hexdiff th { padding: 1px 12px 1px 0; text-align: left; }
table.hexdiff th { color: var(--muted); font-weight: 600; font-size: 12px; }
.hex mark { background: #fee4e2; color: #b42318; font-weight: 700; }
.hex.actual mark { background: #fda29b; color: #55160c; }
.addr { color: var(--muted); }
.vaddr, .more { color: var(--muted); font-weight: normal; }
.identical { color: #05603a; font-weight: 600; }
ol.chain { padding-left: 24px; }
ol.chain li { margin: 6px 0; }
.chain .badge { min-width: 80px; text-align: center; }
.chain .kind-hypervisor .badge { background: #fee4e2; color: #b42318; }
.chain .kind-fault .badge { background: #fef0c7; color: #93370d; }
.chain .insn { background: #f2f4f7; padding: 0 4px; border-radius: 3px; }
.chain .text { color: #344054; margin-left: 4px; }
.chain .bytes { color: var(--muted); font-family: monospace; font-size: 12px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 10px; overflow: auto; max-height: 480px; }
#details { position: fixed; right: 16px; bottom: 16px; width: 440px; max-height: 50vh; overflow: auto; background: #fff; border: 1px solid #98a2b3; border-radius: 6px; box-shadow: 0 6px 24px rgba(16,24,40,.18); padding: 10px 14px; z-index: 3; }
#details h3 { margin-top: 0; }
#details button.close { float: right; margin: 0; border: none; font-size: 18px; line-height: 1; padding: 0 4px; }
#details table { border-collapse: collapse; width: 100%; }
#details th { text-align: left; color: var(--muted); padding: 2px 10px 2px 0; vertical-align: top; white-space: nowrap; font-weight: 600; }
#details td { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
#details button { margin: 8px 8px 0 0; font: inherit; padding: 2px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
footer { color: var(--muted); font-size: 12px; padding: 10px 24px 24px; }
`;
