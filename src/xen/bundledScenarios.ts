// Scenarios shipped with bootpath, by name: `--scenario 2012-shift` reads
// src/xen/scenarios/2012-shift.json from the package. Anything else given to
// --scenario is a path to a scenario file.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageFile } from '../packageRoot.ts';
import { InputError } from '../errors.ts';

const FOLDER = 'src/xen/scenarios';

/** The bundled default scenario (read from the sources' folder: the package ships src/xen/scenarios/). */
export const DEFAULT_SCENARIO_PATH = packageFile(`${FOLDER}/default.json`);

/** Names of the bundled scenarios ('default', '2012-shift', ...). */
export function bundledScenarioNames(): string[] {
  return readdirSync(packageFile(FOLDER)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

/** The file a --scenario argument names: a bundled scenario's name, or a path. */
export function scenarioFile(arg: string | undefined): string {
  if (arg === undefined) return DEFAULT_SCENARIO_PATH;
  const isName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(arg) && !arg.endsWith('.json');
  if (isName) {
    const bundled = packageFile(`${FOLDER}/${arg}.json`);
    if (existsSync(bundled)) return bundled;
    if (!existsSync(resolve(arg))) throw new InputError(`scenario '${arg}': no bundled scenario of that name (bundled: ${bundledScenarioNames().join(', ')}) and no such file`);
  }
  return resolve(arg);
}
