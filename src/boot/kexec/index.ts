// The kexec load plan: what kexec-tools 2.0.25 hands the kernel for a
// bzImage, and the state relocate_kernel leaves when it enters purgatory.
export { planKexecLoad, summarize, type KexecLoadOptions, type LoadPlan, type PlanSegment } from './plan.ts';
export { parseElfRel, type ElfRelObject } from './elfRel.ts';
export { BUNDLED_PURGATORY, layoutPurgatory, linkPurgatory, readPurgatory, LinkedPurgatory, type PurgatoryLayout } from './purgatory.ts';
export { xenHvmE820, kexecMemoryRanges, E820, type MemoryRange, type XenHvmMapOptions } from './memoryMap.ts';
export { SegmentTable, type Segment, type HoleDirection } from './placement.ts';
export { BP, readE820, type FirstKernelInfo } from './bootParams.ts';
export { buildHandoff, IdentityMap, type HandoffState, type HandoffOptions } from './handoff.ts';
export type { KernelPlacement, Regs32, Regs64 } from './loadBzImage64.ts';
export type { PurgatoryConsole, PurgatoryDigest, Sha256Region } from './updatePurgatory.ts';
