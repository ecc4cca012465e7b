// npm packages loaded when first used rather than with the module that uses
// them (a synchronous require of a CommonJS package).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * `name` loaded on the first call. For what the path to a boot's first guest instruction does not use: the payload's
 * decoders run on a worker thread (boot/payloadJob.ts), the ELF reader only once the payload is there.
 */
export function lazyPackage<T>(name: string): () => T {
  let m: T | undefined;
  return () => (m ??= require(name) as T);
}
