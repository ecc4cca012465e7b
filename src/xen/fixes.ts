// The historical fixes, as changes to a scenario: each one is the first
// kernel of a later era (where it put shared_info, or whether it reset Xen's
// state before kexec).
import type { Era } from './firstKernel.ts';
import type { ScenarioSpec } from './scenario.ts';
import { resolveScenario, type ResolvedScenario } from './scenarioResolve.ts';

/** The historical fixes applyFix knows (`bootpath repro --fix`). */
export const FIXES = ['mmio', 'e820-reserved', 'soft-reset'] as const;
/** One of FIXES. */
export type Fix = (typeof FIXES)[number];

/** Each historical fix as the first kernel's era. */
export const FIX_ERA: Record<Fix, Era> = { 'mmio': 'fix-00e37bdb', 'e820-reserved': 'fix-9d02b43d', 'soft-reset': 'soft-reset' };
/** Each fix in words: the commit and what it changed. */
export const FIX_WHAT: Record<Fix, string> = {
  'mmio': 'Linux 00e37bdb (3.7): before kexec, shared_info is re-added in the xen-platform PCI device\'s MMIO BAR (0xF2000000), and the RAM page is given back',
  'e820-reserved': 'Linux 9d02b43d (3.8): shared_info lives at 0xFE700000, inside the E820-reserved hole below 4 GiB, never in RAM',
  'soft-reset': 'Linux 0b34a166 + Xen 4.7: SHUTDOWN_soft_reset before kexec; Xen drops shared_info, registered vcpu_info, event channels and timers',
};

/**
 * The same first kernel with a fix applied: its era becomes the fix's. An
 * explicit shared_info address is dropped (the fix is what moves it); an
 * explicit vcpu_info registration is kept (none of the RAM-moving fixes
 * touched it; soft reset drops it).
 */
export function applyFix(spec: ScenarioSpec, fix: Fix): ScenarioSpec {
  const fk = { ...spec.firstKernel, era: FIX_ERA[fix] };
  delete fk.sharedInfo;
  return { ...spec, firstKernel: fk };
}

/** Resolve the scenario with a fix applied. */
export function resolveWithFix(r: ResolvedScenario, fix: Fix): ResolvedScenario {
  return resolveScenario(applyFix(r.spec, fix));
}
