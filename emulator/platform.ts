// What the core needs from the machine around it, as small interfaces.
// The core knows no device: port I/O, CPUID, platform MSRs and the clock
// all come through here.

/** Port I/O. Reads return the value in the low `size` bytes. */
export interface PortBus {
  portIn(port: number, size: number): number;
  portOut(port: number, size: number, value: number): void;
}

/** CPUID model: fill out[0..3] with eax, ebx, ecx, edx for (leaf, subleaf). */
export interface CpuidModel {
  cpuid(leaf: number, subleaf: number, out: Int32Array): void;
}

/** MSRs the core does not own. Return undefined for an MSR the platform does not claim (#GP). */
export interface MsrBus {
  readMsr(index: number): bigint | undefined;
  /** Return false to refuse (the core raises #GP). */
  writeMsr(index: number, value: bigint): boolean;
}

/** A deterministic source of random bits for RDRAND/RDSEED (seeded by the machine). */
export interface RandomSource {
  next32(): number;
}

export const noPorts: PortBus = {
  portIn: (_port, size) => (size === 1 ? 0xff : size === 2 ? 0xffff : -1),
  portOut: () => {},
};

/** A plain x86-64 CPU with no hypervisor: enough for tests and bare programs. */
export const basicCpuid: CpuidModel = {
  cpuid(leaf, subleaf, out) {
    out.fill(0);
    switch (leaf >>> 0) {
      case 0: out[0] = 0xd; out[1] = 0x68747541; out[3] = 0x69746e65; out[2] = 0x444d4163; break; // "AuthenticAMD"
      case 1:
        out[0] = 0x00a10f11; // family 0x19 (Zen 4)
        out[2] = (1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 22) | (1 << 23); // SSE3 SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT
        out[3] = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 11) | (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26); // FPU PSE TSC MSR PAE CX8 SEP PGE CMOV CLFSH MMX FXSR SSE SSE2
        break;
      // BMI1 BMI2 ADX, as every current x86-64 CPU has them (kernels pick other code paths without them).
      case 7: if (subleaf === 0) out[1] = (1 << 3) | (1 << 8) | (1 << 19); break;
      case 0x80000000: out[0] = 0x80000008 | 0; break;
      case 0x80000001: out[2] = (1 << 0) | (1 << 5); out[3] = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29); break; // LAHF LZCNT; SYSCALL NX 1GB RDTSCP LM
      case 0x80000008: out[0] = 0x3030; break; // 48-bit physical, 48-bit linear
    }
  },
};

export const noMsrs: MsrBus = { readMsr: () => undefined, writeMsr: () => false };
