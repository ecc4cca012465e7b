// A worker thread on one of bootpath's own modules, whichever form the code
// runs in: compiled JavaScript (dist/, an installed package) loads the
// worker's .js directly; the TypeScript sources (a checkout, vitest) load it
// through tsx's loader, registered inside the worker first.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Start a worker on `module` ('./sweepWorker.ts'), relative to the calling
 * module's `callerUrl` (its import.meta.url). A failure to load the module
 * arrives as a `{ type: 'error', message }` message, as the workers' own
 * errors do.
 */
export function startModuleWorker(callerUrl: string, module: string, workerData: unknown): Worker {
  const compiled = callerUrl.endsWith('.js');
  const url = new URL(compiled ? module.replace(/\.ts$/, '.js') : module, callerUrl).href;
  const report = `(e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); }`;
  const boot = compiled
    ? `import(${JSON.stringify(url)}).catch(${report});`
    : `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${JSON.stringify(url)}); }).catch(${report});`;
  return new Worker(boot, { eval: true, workerData });
}

/** The URL of tsx's ESM API (its `register()` lets the worker import TypeScript). */
function tsxEsmApi(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  try { if (meta.resolve) return meta.resolve('tsx/esm/api'); } catch { /* fall through */ }
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api'); // …/dist/esm/api/index.cjs
  return pathToFileURL(cjs.replace(/index\.cjs$/, 'index.mjs')).href;
}
