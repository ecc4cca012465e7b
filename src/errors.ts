// Errors every layer may raise about its inputs. They live below the front
// ends so the loader, the Xen shim and the run can name a bad input without
// importing the CLI; front ends map them to exit codes and messages.

/** An input file or value that is malformed; the message names the input and the problem. The CLI exits 2. */
export class InputError extends Error {}
