// The subcommand table. Each command lives in its own file and exports a
// Command. The table names each one and loads its module only when it runs:
// a command's module brings in the whole machine, and `bootpath --help`
// needs none of it. (test/cli/commands.test.ts checks each summary here is
// the one the module declares.)

export interface Command {
  name: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

/** A row of the table: what `bootpath --help` lists, and how to load the command. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'boot', summary: 'kexec-boot a bzImage from purgatory to x86_64_start_kernel, check the image against vmlinux', load: async () => (await import('./boot.ts')).boot },
  { name: 'inspect', summary: 'show a bzImage: setup header, payload, vmlinux segments, kallsyms', load: async () => (await import('./inspect.ts')).inspect },
  { name: 'multiboot', summary: 'run a multiboot kernel (like qemu -kernel): serial to stdout, exit port as exit code', load: async () => (await import('./multiboot.ts')).multiboot },
  { name: 'sweep', summary: 'boot a Xen scenario with the stale shared_info at each frame of a region (image, decompressor, footprint, range); map the outcomes', load: async () => (await import('./sweep.ts')).sweep },
  { name: 'repro', summary: 'reproduce the 2012 Xen kexec shared_info crash (default scenario); --fix to boot it with a fix', load: async () => (await import('./repro.ts')).repro },
  { name: 'check', summary: 'CI: boot bzImages on each entry path to x86_64_start_kernel, check each image; JUnit XML', load: async () => (await import('./check.ts')).check },
  { name: 'trace', summary: 'a per-instruction trace of a boot (diffable against QEMU\'s -d cpu -singlestep log)', load: async () => (await import('./trace.ts')).trace },
];
