// Xen's public guest ABI for x86_64 as far as the shim needs it: the layout
// of struct shared_info, struct vcpu_info, struct vcpu_time_info and their
// parts, a few constants, and a function that names the field at an offset.
//
// Layouts follow Xen's public headers (xen/include/public/xen.h,
// arch-x86/xen.h, arch-x86/xen-x86_64.h) with the latest interface version
// (the one Xen itself is built with, __XEN_TOOLS__), on x86_64 where
// xen_ulong_t is 8 bytes. test/xen/abi.test.ts compiles a C program against
// libxen-dev's headers and checks every offset and size below.

/** One member of a structure; `count` > 1 for arrays (size is per element). */
export interface Field {
  name: string;
  offset: number;
  size: number;
  count?: number;
  /** The member's own layout when it is a structure. */
  type?: StructLayout;
  /** Padding we name for reports; not a member in C (the header check skips it). */
  implicit?: boolean;
}

export interface StructLayout {
  /** The C type, e.g. "struct vcpu_info". */
  cName: string;
  size: number;
  fields: Field[];
}

/** XEN_LEGACY_MAX_VCPUS on x86: vcpu_info slots inside shared_info. */
export const XEN_LEGACY_MAX_VCPUS = 32;
/** sizeof(xen_ulong_t) on x86_64. */
export const XEN_ULONG_BYTES = 8;
/** Bits per evtchn_pending / evtchn_mask word (BITS_PER_EVTCHN_WORD for a 64-bit guest). */
export const EVTCHN_WORD_BITS = XEN_ULONG_BYTES * 8;
/** Words in evtchn_pending[] and evtchn_mask[]: sizeof(xen_ulong_t) * 8. */
export const EVTCHN_WORDS = XEN_ULONG_BYTES * 8;
/** Ports addressable by the 2-level ABI (64 words x 64 bits). */
export const EVTCHN_2L_PORTS = EVTCHN_WORDS * EVTCHN_WORD_BITS;
export const PAGE_SIZE = 4096;

/** struct vcpu_time_info (32 bytes). `flags` exists for interface versions > 0x040600. */
export const VCPU_TIME_INFO: StructLayout = {
  cName: 'struct vcpu_time_info',
  size: 32,
  fields: [
    { name: 'version', offset: 0, size: 4 },
    { name: 'pad0', offset: 4, size: 4 },
    { name: 'tsc_timestamp', offset: 8, size: 8 },
    { name: 'system_time', offset: 16, size: 8 },
    { name: 'tsc_to_system_mul', offset: 24, size: 4 },
    { name: 'tsc_shift', offset: 28, size: 1 },
    { name: 'flags', offset: 29, size: 1 },
    { name: 'pad1', offset: 30, size: 1, count: 2 },
  ],
};

/** struct arch_vcpu_info on x86_64 (cr2 and a pad to make vcpu_info 64 bytes). */
export const ARCH_VCPU_INFO: StructLayout = {
  cName: 'struct arch_vcpu_info',
  size: 16,
  fields: [
    { name: 'cr2', offset: 0, size: 8 },
    { name: 'pad', offset: 8, size: 8 },
  ],
};

/** struct vcpu_info (64 bytes on x86). */
export const VCPU_INFO: StructLayout = {
  cName: 'struct vcpu_info',
  size: 64,
  fields: [
    { name: 'evtchn_upcall_pending', offset: 0, size: 1 },
    { name: 'evtchn_upcall_mask', offset: 1, size: 1 },
    { name: '(padding)', offset: 2, size: 6, implicit: true },
    { name: 'evtchn_pending_sel', offset: 8, size: 8 },
    { name: 'arch', offset: 16, size: 16, type: ARCH_VCPU_INFO },
    { name: 'time', offset: 32, size: 32, type: VCPU_TIME_INFO },
  ],
};

/** struct arch_shared_info on x86_64. */
export const ARCH_SHARED_INFO: StructLayout = {
  cName: 'struct arch_shared_info',
  size: 48,
  fields: [
    { name: 'max_pfn', offset: 0, size: 8 },
    { name: 'pfn_to_mfn_frame_list_list', offset: 8, size: 8 },
    { name: 'nmi_reason', offset: 16, size: 8 },
    { name: 'p2m_cr3', offset: 24, size: 8 },
    { name: 'p2m_vaddr', offset: 32, size: 8 },
    { name: 'p2m_generation', offset: 40, size: 8 },
  ],
};

/** struct shared_info on x86_64 (3136 bytes; the rest of the 4 KiB page is unused). */
export const SHARED_INFO: StructLayout = {
  cName: 'struct shared_info',
  size: 0xc40,
  fields: [
    { name: 'vcpu_info', offset: 0, size: 64, count: XEN_LEGACY_MAX_VCPUS, type: VCPU_INFO },
    { name: 'evtchn_pending', offset: 0x800, size: XEN_ULONG_BYTES, count: EVTCHN_WORDS },
    { name: 'evtchn_mask', offset: 0xa00, size: XEN_ULONG_BYTES, count: EVTCHN_WORDS },
    { name: 'wc_version', offset: 0xc00, size: 4 },
    { name: 'wc_sec', offset: 0xc04, size: 4 },
    { name: 'wc_nsec', offset: 0xc08, size: 4 },
    { name: 'wc_sec_hi', offset: 0xc0c, size: 4 },
    { name: 'arch', offset: 0xc10, size: 48, type: ARCH_SHARED_INFO },
  ],
};

/** struct vcpu_register_vcpu_info (VCPUOP_register_vcpu_info's argument). */
export const VCPU_REGISTER_VCPU_INFO: StructLayout = {
  cName: 'struct vcpu_register_vcpu_info',
  size: 16,
  fields: [
    { name: 'mfn', offset: 0, size: 8 },
    { name: 'offset', offset: 8, size: 4 },
    { name: 'rsvd', offset: 12, size: 4 },
  ],
};

export const ALL_LAYOUTS: StructLayout[] = [
  VCPU_TIME_INFO, ARCH_VCPU_INFO, VCPU_INFO, ARCH_SHARED_INFO, SHARED_INFO, VCPU_REGISTER_VCPU_INFO,
];

/**
 * Constants from the public headers the shim uses, keyed by their C names
 * (the header check compares each value).
 */
export const XEN_CONSTANTS = {
  XEN_LEGACY_MAX_VCPUS,
  VIRQ_TIMER: 0,
  VIRQ_DEBUG: 1,
  VIRQ_CONSOLE: 2,
  XENMEM_add_to_physmap: 7,
  XENMAPSPACE_shared_info: 0,
  VCPUOP_register_vcpu_info: 10,
  VCPUOP_set_periodic_timer: 6,
  VCPUOP_set_singleshot_timer: 8,
  SCHEDOP_shutdown: 2,
  SHUTDOWN_soft_reset: 5,
  XEN_PVCLOCK_TSC_STABLE_BIT: 1,
} as const;

export const VIRQ_NAMES: Record<string, number> = { VIRQ_TIMER: 0, VIRQ_DEBUG: 1, VIRQ_CONSOLE: 2 };

/** The byte offset of a dotted member path ("vcpu_info.time.version" walks element 0 of arrays). */
export function offsetOf(layout: StructLayout, path: string): number {
  let off = 0;
  let cur: StructLayout | undefined = layout;
  for (const part of path.split('.')) {
    const m = /^([A-Za-z_0-9]+)(?:\[(\d+)\])?$/.exec(part);
    const f: Field | undefined = m ? cur?.fields.find((x) => x.name === m[1]) : undefined;
    if (!m || !f) throw new Error(`offsetOf: no member ${JSON.stringify(part)} in ${cur?.cName ?? '?'} (path ${path})`);
    off += f.offset + (m[2] ? Number(m[2]) * f.size : 0);
    cur = f.type;
  }
  return off;
}

/** Frequently used offsets, derived from the layouts above. */
export const SI = {
  vcpuInfo: (n: number) => n * VCPU_INFO.size,
  evtchnPending: offsetOf(SHARED_INFO, 'evtchn_pending'),
  evtchnMask: offsetOf(SHARED_INFO, 'evtchn_mask'),
  wcVersion: offsetOf(SHARED_INFO, 'wc_version'),
  wcSec: offsetOf(SHARED_INFO, 'wc_sec'),
  wcNsec: offsetOf(SHARED_INFO, 'wc_nsec'),
  wcSecHi: offsetOf(SHARED_INFO, 'wc_sec_hi'),
} as const;

export const VI = {
  upcallPending: offsetOf(VCPU_INFO, 'evtchn_upcall_pending'),
  upcallMask: offsetOf(VCPU_INFO, 'evtchn_upcall_mask'),
  pendingSel: offsetOf(VCPU_INFO, 'evtchn_pending_sel'),
  time: offsetOf(VCPU_INFO, 'time'),
} as const;

export const TI = {
  version: offsetOf(VCPU_TIME_INFO, 'version'),
  pad0: offsetOf(VCPU_TIME_INFO, 'pad0'),
  tscTimestamp: offsetOf(VCPU_TIME_INFO, 'tsc_timestamp'),
  systemTime: offsetOf(VCPU_TIME_INFO, 'system_time'),
  tscToSystemMul: offsetOf(VCPU_TIME_INFO, 'tsc_to_system_mul'),
  tscShift: offsetOf(VCPU_TIME_INFO, 'tsc_shift'),
  flags: offsetOf(VCPU_TIME_INFO, 'flags'),
  pad1: offsetOf(VCPU_TIME_INFO, 'pad1'),
} as const;

/** What lies at one byte offset of a structure. */
export interface FieldAt {
  /** Full member path, e.g. "vcpu_info[1].time.tsc_timestamp", "evtchn_pending[0]". */
  path: string;
  /** Offset of that member's first byte within the structure. */
  start: number;
  size: number;
  /** The queried byte's index within the member (0 for its first byte). */
  byte: number;
}

/**
 * Names the member that contains byte `offset` of `layout`. Bytes past the
 * structure's end are "(unused)" (e.g. 0xc40..0xfff of the shared_info page).
 */
export function fieldAt(layout: StructLayout, offset: number): FieldAt {
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`fieldAt: bad offset ${offset}`);
  if (offset >= layout.size) return { path: '(unused)', start: layout.size, size: PAGE_SIZE - layout.size, byte: offset - layout.size };
  for (const f of layout.fields) {
    const total = f.size * (f.count ?? 1);
    if (offset < f.offset || offset >= f.offset + total) continue;
    const rel = offset - f.offset;
    const idx = Math.floor(rel / f.size);
    const name = f.count !== undefined ? `${f.name}[${idx}]` : f.name;
    const elemStart = f.offset + idx * f.size;
    if (f.type) {
      const inner = fieldAt(f.type, rel - idx * f.size);
      return { path: `${name}.${inner.path}`, start: elemStart + inner.start, size: inner.size, byte: inner.byte };
    }
    return { path: name, start: elemStart, size: f.size, byte: offset - elemStart };
  }
  return { path: '(padding)', start: offset, size: 1, byte: 0 };
}

/** The member at an offset within the shared_info page. */
export const sharedInfoFieldAt = (offset: number) => fieldAt(SHARED_INFO, offset);
/** The member at an offset within a (registered) vcpu_info. */
export const vcpuInfoFieldAt = (offset: number) => fieldAt(VCPU_INFO, offset);

/** "vcpu_info[1].time.tsc_timestamp" or, for an inner byte, "vcpu_info[1].time.tsc_timestamp+3". */
export function formatFieldAt(f: FieldAt): string {
  return f.byte === 0 ? f.path : `${f.path}+${f.byte}`;
}
