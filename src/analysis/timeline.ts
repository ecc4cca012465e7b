// The Xen timeline of a scenario run for humans: the stale frames, what the
// loader and the guest wrote into them (the first guest write is the moment
// "the new kernel overwrites the shared_info page"), and the hypervisor's
// writes, by field, with the ones that landed in the new kernel named.
import type { ScenarioRun } from './scenarioBoot.ts';
import type { XenWriteEvent } from '../xen/attach.ts';

const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const bytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const n = (x: number) => x.toLocaleString('en-US');

/** The writes that changed guest memory after instruction 0 (the initial page is the state at kexec, not an event). */
export function liveWrites(run: ScenarioRun): XenWriteEvent[] {
  return run.timeline.hypervisorWrites.filter((w) => w.event !== 'initial_state' && w.guestVisible && !w.suppressed);
}

export function formatTimeline(run: ScenarioRun, opts: { maxWrites?: number } = {}): string {
  const t = run.timeline;
  const L: string[] = [];
  const e = run.result.kernelEntry;
  if (t.frames.length === 0) {
    L.push('xen:     no stale Xen frame (soft reset, or nothing registered)');
  }
  for (const f of t.frames) {
    const where = f.inRam ? 'guest RAM' : 'outside RAM (a Xen-only page: the guest never sees it)';
    L.push(`xen:     ${f.role} at gfn ${hex(f.gfn)} (${hex(f.gfn * 4096)}), ${where} — ${f.label}`);
    const lw = t.loaderWrites.filter((w) => w.gfn === f.gfn);
    for (const w of lw) L.push(`           loader wrote ${n(w.len)} bytes at ${hex(w.addr)} (${w.what}) through Xen's mapping`);
    const g = t.firstGuestWrite.find((w) => w.gfn === f.gfn);
    if (g) {
      L.push(`           first guest write into it: instruction ${n(g.icount)}, ${g.phase}, rip ${hex(g.rip)} <${g.where ?? '?'}>: ${g.instruction} (${g.len} byte(s) at ${hex(g.addr)})`);
      const gx = t.firstGuestWriteToXenField.find((w) => w.gfn === f.gfn);
      if (gx && gx.icount !== g.icount) L.push(`           first guest write over a Xen field: instruction ${n(gx.icount)}, rip ${hex(gx.rip)} <${gx.where ?? '?'}>: ${gx.instruction}`);
      L.push(`           guest instructions that wrote there: ${n(t.guestWrites[f.gfn] ?? 0)}`);
    } else if (f.inRam) L.push('           the guest never wrote into it');
  }
  const live = liveWrites(run);
  const byField = new Map<string, number>();
  for (const w of live) byField.set(w.field, (byField.get(w.field) ?? 0) + 1);
  L.push(`xen:     ${n(live.length)} hypervisor writes changed guest memory after kexec${live.length ? ': ' + [...byField].map(([f, c]) => `${f} ×${c}`).join(', ') : ''}`);
  const hits = live.filter((w) => w.landed?.startsWith('new kernel') || w.landed?.startsWith('kexec segment') || w.landed?.startsWith('hand-off'));
  if (hits.length) {
    L.push(`         ${n(hits.length)} of them landed in the boot's own data:`);
    for (const w of hits.slice(0, opts.maxWrites ?? 12)) {
      const when = e ? (w.icount >= e.icount ? 'after startup_64' : 'before startup_64') : '';
      L.push(`  [${n(w.icount)}] ${w.field} @ ${hex(w.addr)} ${bytes(w.before)} -> ${bytes(w.after)}${w.detail ? ` (${w.detail})` : ''}  ⇒ ${w.landed} ${when}`);
    }
    if (hits.length > (opts.maxWrites ?? 12)) L.push(`  … ${hits.length - (opts.maxWrites ?? 12)} more`);
  }
  if (t.upcalls.length) L.push(`xen:     ${t.upcalls.length} upcall(s) raised (no interrupt injected: IF is clear on the boot path)`);
  return L.join('\n');
}

/** The timeline as data (for --json). */
export function timelineData(run: ScenarioRun) {
  const t = run.timeline;
  return {
    frames: t.frames,
    loaderWrites: t.loaderWrites,
    firstGuestWrite: t.firstGuestWrite,
    firstGuestWriteToXenField: t.firstGuestWriteToXenField,
    guestWrites: t.guestWrites,
    upcalls: t.upcalls,
    hypervisorWrites: t.hypervisorWrites.filter((w) => w.event !== 'initial_state'),
  };
}
