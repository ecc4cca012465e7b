// The table of instruction forms under differential test (see forms/*.ts
// for each family's encodings, input constraints and masked flags).

import { aluForms } from './forms/alu.ts';
import { bitForms } from './forms/bits.ts';
import { bmiForms } from './forms/bmi.ts';
import { controlForms } from './forms/control.ts';
import { lockForms } from './forms/lock.ts';
import { moveForms } from './forms/move.ts';
import { segmentForms } from './forms/segment.ts';
import { shiftForms } from './forms/shift.ts';
import { sseForms } from './forms/sse.ts';
import { longStringForms, stringForms } from './forms/string.ts';
import type { Form } from './forms/common.ts';
import { compatForms } from './forms32.ts';

export type { Form } from './forms/common.ts';

/** Cases of each 64-bit form: its generator's count times this (250,000+ in all). */
const CASES_64 = 1.5;
/** 32-bit twins get this share of their 64-bit form's case count. */
const COMPAT_SHARE = 0.3;

let cache: Form[] | undefined;

export function allForms(): Form[] {
  if (cache) return cache;
  const forms64 = [...aluForms(), ...shiftForms(), ...moveForms(), ...bitForms(), ...bmiForms(), ...lockForms(), ...segmentForms(), ...controlForms(), ...stringForms(), ...longStringForms(), ...sseForms()];
  for (const f of forms64) f.cases = Math.round(f.cases * CASES_64);
  const forms = [...forms64, ...compatForms(forms64, COMPAT_SHARE)];
  const seen = new Set<string>();
  for (const f of forms) {
    if (seen.has(f.id)) throw new Error(`duplicate form id ${f.id}`);
    seen.add(f.id);
  }
  return (cache = forms);
}

export function formById(id: string): Form {
  const f = allForms().find((x) => x.id === id);
  if (!f) throw new Error(`no form '${id}'`);
  return f;
}
