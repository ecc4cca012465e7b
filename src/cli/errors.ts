/** Wrong command-line usage (unknown flag, missing argument). Exit code 2. */
export class UsageError extends Error {}

/** An input file or value that is malformed; the message names the input and the problem. Exit code 2. */
export class InputError extends Error {}
