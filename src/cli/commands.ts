// The subcommand table. Each command lives in its own file and exports a Command.
import { inspect } from './inspect.ts';
import { multiboot } from './multiboot.ts';
import { boot } from './boot.ts';
import { sweep } from './sweep.ts';
import { repro } from './repro.ts';

export interface Command {
  name: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Command[] = [boot, inspect, multiboot, sweep, repro];
