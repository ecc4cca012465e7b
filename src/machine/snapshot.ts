// Machine snapshots for sweeps: the state of a BootMachine right after the
// loader wrote kexec's segments and the hand-off state was loaded, restored
// into a fresh machine instead of parsing, planning and loading again.
//
// What is captured, and why it is enough:
//  - RAM: the ranges the loader wrote, in the order it wrote them, with the
//    loader's labels. Restoring writes them back through `BootMachine.load`
//    — so a frame someone declared before loading (a stale Xen frame,
//    tracked and holding Xen's page) receives exactly the bytes kexec's copy
//    put there, attributed to the loader, as in a fresh run. The rest of RAM
//    is zero in both. For the bundled kernel that is ~12 MiB of a 512 MiB RAM;
//    a restore costs a few milliseconds (`test/repro/snapshot.test.ts`).
//  - the CPU's architectural state: registers, lazy flags, segments with
//    their hidden parts, control/system/debug registers, MSRs, SSE/x87
//    control, mode, icount. Caches (TLB, decoded blocks) are not state: the
//    fresh machine starts with them empty.
//  - devices and the event scheduler: a snapshot may only be taken at a
//    quiescent point — no instruction retired, nothing scheduled — where a
//    fresh machine's devices are in the same (reset) state. `takeSnapshot`
//    checks this and throws otherwise; mid-run snapshots (device state,
//    scheduled events with closures) are not supported.
import type { BootMachine } from './bootMachine.ts';

export interface SnapshotRange { addr: number; bytes: Uint8Array; what: string }

export interface CpuSnapshot {
  arrays: Record<string, Int32Array | Float64Array>;
  scalars: Record<string, number | boolean>;
  msr: [number, bigint][];
}

export interface MachineSnapshot {
  ramSize: number;
  ranges: SnapshotRange[];
  cpu: CpuSnapshot;
  /** Bytes of RAM held (for reports). */
  bytes: number;
}

const ARRAYS = ['lo', 'hi', 'segSel', 'segBaseLo', 'segBaseHi', 'segLimit', 'segAttr', 'dr', 'xmm'] as const;
const SCALARS = [
  'ripLo', 'ripHi', 'fOp', 'fSize', 'fA', 'fAh', 'fB', 'fBh', 'fR', 'fRh', 'fAux', 'flagsSys',
  'cr0', 'cr2Lo', 'cr2Hi', 'cr3Lo', 'cr3Hi', 'cr4', 'cr8', 'efer',
  'gdtrBaseLo', 'gdtrBaseHi', 'gdtrLimit', 'idtrBaseLo', 'idtrBaseHi', 'idtrLimit',
  'ldtrSel', 'ldtrBaseLo', 'ldtrBaseHi', 'ldtrLimit', 'ldtrAttr', 'trSel', 'trBaseLo', 'trBaseHi', 'trLimit', 'trAttr',
  'kernelGsBaseLo', 'kernelGsBaseHi', 'mxcsr', 'fpuControl', 'fpuStatus', 'fpuTag',
  'codeBits', 'stackBits', 'cpl', 'pagingMode', 'physAddrBits', 'icount', 'interruptShadow', 'halted', 'shutdown', 'tscPerInstruction',
] as const;

type CpuFields = Record<string, unknown>;

export function captureCpu(m: BootMachine): CpuSnapshot {
  const c = m.cpu as unknown as CpuFields;
  const arrays: CpuSnapshot['arrays'] = {};
  for (const k of ARRAYS) arrays[k] = (c[k] as Int32Array | Float64Array).slice();
  const scalars: CpuSnapshot['scalars'] = {};
  for (const k of SCALARS) scalars[k] = c[k] as number | boolean;
  return { arrays, scalars, msr: [...m.cpu.msr.entries()] };
}

export function restoreCpu(m: BootMachine, s: CpuSnapshot): void {
  const c = m.cpu as unknown as CpuFields;
  for (const k of ARRAYS) (c[k] as Int32Array | Float64Array).set(s.arrays[k]!);
  for (const k of SCALARS) c[k] = s.scalars[k];
  m.cpu.msr.clear();
  for (const [k, v] of s.msr) m.cpu.msr.set(k, v);
  m.cpu.flushTlb();
}

/**
 * Snapshot a machine at a quiescent point: `ranges` are the RAM ranges the
 * loader wrote (address, length, label), copied now.
 */
export function takeSnapshot(m: BootMachine, ranges: { addr: number; len: number; what: string }[]): MachineSnapshot {
  if (m.cpu.icount !== 0) throw new Error(`takeSnapshot: only at a quiescent point (after loading, before the run); ${m.cpu.icount} instructions have retired`);
  if (m.scheduler.pending !== 0) throw new Error(`takeSnapshot: ${m.scheduler.pending} events are scheduled; take the snapshot before anything is scheduled`);
  let bytes = 0;
  const out: SnapshotRange[] = ranges.map((r) => {
    bytes += r.len;
    return { addr: r.addr, bytes: m.ram.read(r.addr, r.len), what: r.what };
  });
  return { ramSize: m.ram.size, ranges: out, cpu: captureCpu(m), bytes };
}

/** Restore into a fresh machine (same RAM size): the loader's writes replayed, then the CPU state. */
export function restoreSnapshot(m: BootMachine, s: MachineSnapshot): void {
  if (m.ram.size !== s.ramSize) throw new Error(`restoreSnapshot: the snapshot has ${s.ramSize} bytes of RAM, the machine ${m.ram.size}`);
  if (m.cpu.icount !== 0) throw new Error('restoreSnapshot: restore into a fresh machine');
  for (const r of s.ranges) m.load(r.addr, r.bytes, r.what);
  restoreCpu(m, s.cpu);
}
