// The subcommand table. Each command lives in its own file and exports a Command.
export interface Command {
  name: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Command[] = [];
