// The public entry of the CPU core. src/ uses the core only through this file.
export { Cpu, type CpuOptions } from './cpu.ts';
export * from './regs.ts';
export { FlatMemory, type PhysicalMemory, FRAME_READ_SLOW, FRAME_WRITE_SLOW } from './memory.ts';
export { type PortBus, type CpuidModel, type MsrBus, type RandomSource, basicCpuid, noPorts, noMsrs } from './platform.ts';
export { CpuFault, Vector, VECTOR_NAMES } from './fault.ts';
export { Stop } from './run.ts';
export { disassemble } from './decode.ts';
export { CF, PF, AF, ZF, SF, TF, IF, DF, OF } from './flags.ts';
export { installSystem, SystemEvents, deliver, pushedFlags, EventKind, type InterruptSource, type SystemOptions, type TripleFaultEvent, type FaultRecord } from './interrupts.ts';
export { captureState, formatState, modeName, type CpuState } from './state.ts';
export { DEFAULT_COMPILE_THRESHOLD } from './jit/compile.ts';
