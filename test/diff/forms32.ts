// The 32-bit forms: every 64-bit form whose encoding exists in 32-bit code
// (no REX, no RIP-relative operand, no 67h: that selects 16-bit addressing,
// whose addresses fall below 64 KiB where the host maps nothing), run again
// in compatibility mode — the host far-jumps into the 32-bit user code
// segment (native/harness.c), the core runs with a 32-bit CS in long mode.
// Where the host refuses 32-bit code they run on QEMU instead (native.ts,
// qemu.ts). Same generator, same masks; ids end in ' [32]'.

import { NO_REX_IN_32 } from './encode.ts';
import { FORM_FEATURES, type Form } from './forms/common.ts';
import { generateCase } from './generate.ts';
import { disasm } from './disasm.ts';

/** Groups left out: segment overrides (FS/GS bases are 64-bit-mode state here). */
const EXCLUDED_GROUPS = new Set(['segment']);
const PROBE_SEED = 1;
const PROBES = 24;

/** 32-bit twins of the forms that encode in 32-bit code, with `share` of their case count (at least 1). */
export function compatForms(forms: Form[], share: number): Form[] {
  const out: Form[] = [];
  for (const f of forms) {
    if (EXCLUDED_GROUPS.has(f.group) || f.id.includes('(67h')) continue;
    const twin: Form = { ...f, id: `${f.id} [32]`, mode: 32, cases: Math.max(1, Math.round(f.cases * share)) };
    // A form that asks for REX or RIP-relative addressing in some of its first cases has no 32-bit encoding.
    let ok = true;
    for (let n = 0; n < PROBES && ok; n++) {
      try {
        // The same bytes must be one instruction in 32-bit code too (moffs64 is not: its address is 4 bytes there).
        const c = generateCase(PROBE_SEED, twin, n, 1);
        if (disasm(c.input.code, 32).includes('≠')) ok = false;
      } catch (e) {
        if (e instanceof Error && e.message === NO_REX_IN_32) ok = false; else throw e;
      }
    }
    if (!ok) continue;
    out.push(twin);
    // Needs the host to run 32-bit code, and whatever the 64-bit form needs.
    FORM_FEATURES.set(twin.id, FORM_FEATURES.has(f.id) ? `compat32+${FORM_FEATURES.get(f.id)}` : 'compat32');
  }
  return out;
}
