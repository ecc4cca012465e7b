// Seeded case generation: case n of form F under seed S is a pure function
// of (S, F.id, n), so a failure can be regenerated from its id alone.

import { allForms, formById, type Form } from './forms.ts';
import { NO_REX_IN_32, setEncodeMode } from './encode.ts';
import { Gen, type Masks } from './gen.ts';
import type { CaseInput } from './layout.ts';

export interface Case {
  id: string;           // `${form.id}#${n}`
  form: Form;
  index: number;
  input: CaseInput;
  masks: Masks;
  rep: boolean;
  /** An invalid encoding on purpose (#UD expected on both sides). */
  ud: boolean;
}

/**
 * Case `index` of `form`. A 32-bit form whose generator asked for REX or
 * RIP-relative addressing draws again from a derived stream (deterministic:
 * attempt k uses the stream of '<form id>/k').
 */
export function generateCase(seed: number, form: Form, index: number, attempts = 50): Case {
  const mode = form.mode ?? 64;
  let g!: Gen;
  for (let k = 0; ; k++) {
    g = new Gen(seed, k ? `${form.id}/${k}` : form.id, index, mode);
    setEncodeMode(mode);
    try { form.gen(g); break; } catch (e) {
      if (!(e instanceof Error && e.message === NO_REX_IN_32) || k + 1 >= attempts) throw e;
    } finally { setEncodeMode(64); }
  }
  if (g.code.length === 0) throw new Error(`${form.id}: no code`);
  const input = g.input();
  if (mode === 32) input.mode = 32;
  return { id: `${form.id}#${index}`, form, index, input, masks: g.masks, rep: g.rep, ud: g.ud };
}

/** All cases of the given forms (default: every form), scaled by `scale`. */
export function generateAll(seed: number, forms: Form[] = allForms(), scale = 1): Case[] {
  const out: Case[] = [];
  for (const f of forms) {
    const n = Math.max(1, Math.round(f.cases * scale));
    for (let i = 0; i < n; i++) out.push(generateCase(seed, f, i));
  }
  return out;
}

/** Parse 'form id#n' back into a case. */
export function caseFromId(seed: number, id: string): Case {
  const hash = id.lastIndexOf('#');
  if (hash < 0) throw new Error(`case id '${id}' has no #index`);
  return generateCase(seed, formById(id.slice(0, hash)), Number(id.slice(hash + 1)));
}
