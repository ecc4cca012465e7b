// The CPUID model of the minimal machine: the core's basic x86-64 CPU plus
// the features the system-level test programs use (5-level paging, PCID,
// RDRAND/RDSEED, RDTSCP), with 48-bit physical and 57-bit linear addresses.
import { basicCpuid, type CpuidModel } from '../../emulator/index.ts';

export const machineCpuid: CpuidModel = {
  cpuid(leaf, subleaf, out) {
    basicCpuid.cpuid(leaf, subleaf, out);
    switch (leaf >>> 0) {
      case 1: out[2] = out[2]! | (1 << 17) | (1 << 30); break; // PCID RDRAND
      case 7: if (subleaf === 0) { out[1] = out[1]! | (1 << 18); out[2] = out[2]! | (1 << 16); } else out.fill(0); break; // RDSEED; LA57
      case 0x80000008: out[0] = 0x3930; break; // 48-bit physical, 57-bit linear
    }
  },
};
