// Register names, control-register bits and descriptor attribute bits.

export const enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5 }
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000 | 0;
export const CR4_PSE = 0x10, CR4_PAE = 0x20, CR4_PGE = 0x80, CR4_OSFXSR = 0x200, CR4_LA57 = 0x1000, CR4_PCIDE = 0x20000, CR4_OSXSAVE = 0x40000, CR4_SMEP = 0x100000, CR4_SMAP = 0x200000;
export const EFER_SCE = 1, EFER_LME = 0x100, EFER_LMA = 0x400, EFER_NXE = 0x800;

/** Segment descriptor attribute bits as we keep them (descriptor bits 40-47 and 52-55, packed). */
export const ATTR_TYPE = 0xf, ATTR_S = 0x10, ATTR_DPL = 0x60, ATTR_P = 0x80, ATTR_AVL = 0x1000, ATTR_L = 0x2000, ATTR_DB = 0x4000, ATTR_G = 0x8000;

export const enum PagingMode { None = 0, Legacy32 = 1, Pae = 2, Level4 = 3, Level5 = 4 }


/** Bit of Cpu.checks: alignment checking (#AC) is on. */
export const CHECK_AC = 0x40;
/** Bit of Cpu.checks: a data breakpoint is enabled in DR7 (debugregs.ts). */
export const CHECK_DBG = 0x80;
