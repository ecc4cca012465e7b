// Paths to the bundled tiny-6.1 kernels, shared by the boot tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Compression } from '../../src/boot/compression.ts';

export const TINY_DIR = fileURLToPath(new URL('../../kernels/tiny-6.1/', import.meta.url));

export const tinyFile = (name: string) => TINY_DIR + name;
export const tinyBzImagePath = (c: Compression) => tinyFile(`bzImage.${c}`);
export const readTiny = (name: string) => readFileSync(tinyFile(name));
