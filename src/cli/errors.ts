/** Wrong command-line usage (unknown flag, missing argument). Exit code 2. */
export class UsageError extends Error {}

export { InputError } from '../errors.ts';
