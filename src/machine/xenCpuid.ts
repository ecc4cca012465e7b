// CPUID of a Xen HVM guest on an AMD Zen 4 host: the plain CPU model with
// the hypervisor bit set and Xen's leaves at 0x40000000 ("XenVMMXenVMM",
// version, hypercall page MSR). Configurable through the options.
import { basicCpuid, type CpuidModel } from '../../emulator/index.ts';

export interface XenCpuidOptions {
  /** Xen version reported in leaf 0x40000001 (default 4.17). */
  xenMajor?: number;
  xenMinor?: number;
  /** Offer 5-level paging (CPUID.7.0:ECX.LA57); Xen HVM guests usually do not see it. Default false. */
  la57?: boolean;
  /** Offer RDRAND/RDSEED. Default true. */
  rdrand?: boolean;
}

function str4(s: string): number {
  return s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
}

export function xenHvmCpuid(opts: XenCpuidOptions = {}): CpuidModel {
  const major = opts.xenMajor ?? 4, minor = opts.xenMinor ?? 17;
  const rdrand = opts.rdrand ?? true;
  return {
    cpuid(leaf, subleaf, out) {
      const l = leaf >>> 0;
      if (l >= 0x40000000 && l < 0x40010000) {
        out.fill(0);
        switch (l) {
          case 0x40000000: out[0] = 0x40000005; out[1] = str4('XenV'); out[2] = str4('MMXe'); out[3] = str4('nVMM'); break;
          case 0x40000001: out[0] = (major << 16) | minor; break;
          case 0x40000002: out[0] = 1; out[1] = 0x40000000; break; // one hypercall page, MSR 0x40000000
          default: break;
        }
        return;
      }
      basicCpuid.cpuid(leaf, subleaf, out);
      switch (l) {
        case 1: out[2] = out[2]! | (1 << 31) | (rdrand ? 1 << 30 : 0); break; // hypervisor present
        case 7:
          if (subleaf === 0) { if (rdrand) out[1] = out[1]! | (1 << 18); if (opts.la57) out[2] = out[2]! | (1 << 16); } else out.fill(0);
          break;
        case 0x80000008: out[0] = opts.la57 ? 0x3930 : 0x3030; break;
      }
    },
  };
}
