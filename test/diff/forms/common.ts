// Shared pieces of the instruction-form table.

import type { EncodeSpec } from '../encode.ts';
import type { Gen, Mode8, Size } from '../gen.ts';

export interface Form {
  /** Unique, human-readable: 'adc r/m64,r64', 'shl r/m8,cl rex'. */
  id: string;
  group: string;
  /** Which architecturally undefined state this form masks (Intel SDM ∪ AMD APM), '' if none. */
  undefined: string;
  /** Cases generated for this form. */
  cases: number;
  /** Code size the form runs in: 64 (default) or 32 (compatibility mode, forms32.ts). */
  mode?: 32 | 64;
  gen(g: Gen): void;
}

/** An operand-size variant; 8-bit comes in the legacy (AH..BH, no REX) and REX (SPL..R15B) sets. */
export interface SV { size: Size; mode8: Mode8; rex8: boolean }
export const S8: SV = { size: 8, mode8: 'legacy', rex8: false };
export const S8X: SV = { size: 8, mode8: 'rex', rex8: true };
export const S16: SV = { size: 16, mode8: 'rex', rex8: false };
export const S32: SV = { size: 32, mode8: 'rex', rex8: false };
export const S64: SV = { size: 64, mode8: 'rex', rex8: false };
export const ALL: SV[] = [S8, S8X, S16, S32, S64];
export const WIDE: SV[] = [S16, S32, S64];

/** 'adc r/m#,r#' with # = size; ' rex' appended for the REX 8-bit set. */
export function idOf(template: string, sv: SV): string {
  return template.replaceAll('#', String(sv.size)) + (sv.rex8 ? ' rex' : '');
}

/** Operand-size encoding bits for a variant (66 / REX.W / forced REX / no REX). */
export function sizeSpec(sv: SV, extraPrefixes: number[] = []): Pick<EncodeSpec, 'prefixes' | 'rexW' | 'forceRex' | 'noRex'> {
  const prefixes = sv.size === 16 ? [0x66, ...extraPrefixes] : [...extraPrefixes];
  return { prefixes, rexW: sv.size === 64, forceRex: sv.rex8, noRex: sv.size === 8 && !sv.rex8 };
}

/** Immediate size for a 'iz' immediate: 2 for 16-bit, else 4 (sign-extended for 64). */
export function izSize(size: Size): 1 | 2 | 4 { return size === 8 ? 1 : size === 16 ? 2 : 4; }

export const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

export const DEFAULT_CASES = 160;

/** The CPUID feature a form needs beyond x86-64 (names as native.ts features() reports them), by form id. */
export const FORM_FEATURES = new Map<string, string>();
