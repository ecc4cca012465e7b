#!/usr/bin/env node
// The installed `bootpath` command: the compiled JavaScript in dist/, or in a
// checkout whose dist/ is missing or older than the sources, the TypeScript
// sources through tsx's loader (bin/dist.js decides; BOOTPATH_CODE=source|dist
// forces one).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chooseEntry } from './dist.js';

const entry = chooseEntry(fileURLToPath(new URL('..', import.meta.url)));
if (process.env.BOOTPATH_CODE_SHOW) process.stderr.write(`bootpath: running ${entry.kind} (${entry.why})\n`);
if (entry.kind === 'source') (await import('tsx/esm/api')).register();
const { main } = await import(pathToFileURL(entry.main).href);
process.exitCode = await main(process.argv.slice(2));
