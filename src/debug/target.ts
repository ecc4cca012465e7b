// What the gdb stub needs from a machine: the interface a debug backend
// implements. The protocol core (stub.ts, commands.ts) and the TCP server
// (server.ts) know nothing else about the machine.

/** Why the target stopped, as the stub reports it to gdb; `why`, on any kind, is shown first as console output (an O packet). */
export type StopReply = StopKind & { why?: string };

type StopKind =
  | { kind: 'trap' }                                   // T05 after a step or a generic stop
  | { kind: 'breakpoint'; hw: boolean }                // T05 with swbreak: (Z0) or hwbreak: (Z1)
  | { kind: 'watch'; access: 'watch' | 'rwatch' | 'awatch'; addr: bigint } // T05 watch:/rwatch:/awatch:<hex addr>;
  | { kind: 'interrupted' }                            // T02 (Ctrl-C)
  | { kind: 'history'; end: 'begin' | 'end' }          // T05 replaylog:begin; / replaylog:end;
  | { kind: 'signal'; signal: number; why?: string }    // T<sig> e.g. 11 SIGSEGV for a triple fault; `why` is sent first as console output (O packet) if given
  | { kind: 'exited'; code: number };                  // W<code>

export type ResumeAction = 'continue' | 'step' | 'reverse-continue' | 'reverse-step';

/** Z/z types: 0 software breakpoint, 1 hardware breakpoint, 2 write watch, 3 read watch, 4 access watch. */
export type PointType = 0 | 1 | 2 | 3 | 4;

/** A failure to report to gdb: the stub answers with an error reply carrying the message where gdb shows it. */
export class TargetError extends Error {}

/**
 * A region of the memory map gdb gets (qXfer:memory-map:read). Once a map is
 * given, gdb refuses by default (`mem inaccessible-by-default`) to read or
 * write addresses outside it, and these are the addresses gdb uses in m/M/X,
 * i.e. linear addresses; 'rom' makes gdb use hardware breakpoints there.
 */
export interface MemoryRegion { start: bigint; length: bigint; type: 'ram' | 'rom' }

export interface GdbTarget {
  /** Register `i` of REGISTERS (registers.ts) as little-endian bytes of its size. */
  readRegister(i: number): Uint8Array;
  /** Throws TargetError if the value cannot be set. (A 'G' packet only writes the registers whose bytes changed.) */
  writeRegister(i: number, bytes: Uint8Array): void;
  /** Up to `len` bytes from `addr`; fewer (possibly 0) where memory is unreadable. */
  readMemory(addr: bigint, len: number): Uint8Array;
  /** Throws TargetError when any byte cannot be written. */
  writeMemory(addr: bigint, data: Uint8Array): void;
  /** Run; resolves when the target stops. Only one resume is pending at a time. A rejection becomes an error reply. */
  resume(action: ResumeAction): Promise<StopReply>;
  /** Ctrl-C: a pending resume() must resolve soon with { kind: 'interrupted' }. Harmless when not running. */
  interrupt(): void;
  /** false: this type is not supported (the stub answers with an empty packet). Throws TargetError to refuse this one point. */
  insertPoint(type: PointType, addr: bigint, len: number): boolean;
  removePoint(type: PointType, addr: bigint, len: number): boolean;
  /** `monitor <command>` text; resolves to the text to show (may be multi-line). Throws TargetError for a bad command. */
  monitor(command: string): Promise<string>;
  memoryMap(): MemoryRegion[];
  /** Why the target is stopped now (for '?'). */
  stopReason(): StopReply;
  /** gdb detached or disconnected: drop its breakpoints/watchpoints, leave the machine as it is. Not called after kill(). */
  detach(): void;
  /** 'k': end the session (the server closes the connection; the machine stays for another client). */
  kill(): void;
}
