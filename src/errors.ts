// Errors every layer may raise about its inputs. They live below the front
// ends so the loader, the Xen shim and the run can name a bad input without
// importing the CLI; front ends map them to exit codes and messages.

/** An input file or value that is malformed; the message names the input and the problem. The CLI exits 2. */
export class InputError extends Error {}

/**
 * A bug in bootpath, not in the guest: an exception the emulator or the
 * machine did not expect, raised while a run was executing. Carries where the
 * run was, so a reproducer can be written. The CLI exits 70 (EX_SOFTWARE).
 */
export class InternalError extends Error {
  constructor(readonly original: unknown, readonly icount: number, readonly rip: bigint) {
    super(`${original instanceof Error ? original.message : String(original)} (at instruction ${icount}, rip 0x${rip.toString(16)})`);
  }
}
