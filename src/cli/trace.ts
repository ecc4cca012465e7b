// `bootpath trace`: a per-instruction trace of a kexec boot over an
// instruction-count or address range (src/debug/trace.ts), and
// `--from-qemu <log>` to turn QEMU's single-step log into the same lines.
import { readFileSync } from 'node:fs';
import type { Command } from './commands.ts';
import { parseOptions } from './options.ts';
import { InputError, UsageError } from './errors.ts';
import { parseCount } from './units.ts';
import { BootRun } from '../run/bootRun.ts';
import { BUNDLED_KERNEL } from '../boot/bundled.ts';
import { qemuLogToRegs, traceRun, type TraceFormat } from '../debug/trace.ts';
import { jsonDocument } from './json.ts';

const USAGE = `usage: bootpath trace [--kernel <bzImage>] [--vmlinux <file>] [--entry 64|32] [--seed <n>] [--ram <size>]
                     [--from <icount> | --at <address>] [--count <n>] [--format text|regs] [--out <file>] [--json]
       bootpath trace --from-qemu <qemu.log> [--json]
  --from <icount>   start after that many instructions (default 0)
  --at <address>    start the first time execution reaches this linear address
  --count <n>       instructions to trace (default 1000; a rep iteration is one)
  --format text     icount, rip, symbol, disassembly and the registers each instruction changed (default)
  --format regs     the registers before each instruction, as lines QEMU's log converts to (--from-qemu)
  --json            one JSON document with the lines (docs/json.md)`;

export const trace: Command = {
  name: 'trace',
  summary: 'a per-instruction trace of a boot (diffable against QEMU\'s -d cpu -singlestep log)',
  async run(args) {
    const v = parseOptions(args, {
      kernel: { type: 'string' }, vmlinux: { type: 'string' }, entry: { type: 'string' }, seed: { type: 'string' }, ram: { type: 'string' },
      from: { type: 'string' }, at: { type: 'string' }, count: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' },
      'from-qemu': { type: 'string' }, help: { type: 'boolean' }, json: { type: 'boolean' },
    }, USAGE);
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const collected: string[] = [];
    const write = v.json ? (s: string): void => { collected.push(s); } : (s: string): void => { process.stdout.write(s + '\n'); };
    if (v['from-qemu'] !== undefined) {
      let log: string;
      try { log = readFileSync(v['from-qemu'], 'latin1'); } catch (e) { throw new InputError(`${v['from-qemu']}: cannot read: ${(e as Error).message}`); }
      const lines = qemuLogToRegs(log);
      if (lines.length === 0) throw new InputError(`${v['from-qemu']}: no register dumps (RAX=… RIP=…) found: record it with -d cpu -singlestep`);
      for (const l of lines) write(l);
      if (v.json) process.stdout.write(jsonDocument('trace', { source: v['from-qemu'], format: 'regs', lines: collected, ended: null }));
      return 0;
    }
    const format = (v.format ?? 'text') as TraceFormat;
    if (format !== 'text' && format !== 'regs') throw new UsageError(`--format must be text or regs, not ${v.format}`);
    if (v.from !== undefined && v.at !== undefined) throw new UsageError('--from and --at are alternatives');
    const entry = v.entry === undefined ? 64 : Number(v.entry);
    if (entry !== 64 && entry !== 32) throw new UsageError(`--entry must be 64 or 32, not ${v.entry}`);
    const count = v.count !== undefined ? parseCount(v.count, '--count') : 1000;
    const run = new BootRun({
      kernel: v.kernel ?? BUNDLED_KERNEL, vmlinux: v.vmlinux, entry, until: null,
      seed: v.seed !== undefined ? parseCount(v.seed, '--seed') : undefined,
      ramSize: v.ram !== undefined ? parseCount(v.ram, '--ram') : undefined,
    });
    let out: (s: string) => void = write;
    if (v.out !== undefined) {
      const { createWriteStream } = await import('node:fs');
      const f = createWriteStream(v.out);
      out = (s) => { f.write(s + '\n'); };
      process.on('exit', () => f.end());
    }
    if (v.at !== undefined) {
      const addr = BigInt(parseCount(v.at, '--at'));
      run.addBreakpoint(addr);
      const s = run.advance(Infinity, false);
      run.removeBreakpoint(addr);
      if (s.kind !== 'breakpoint') throw new InputError(`--at 0x${addr.toString(16)}: never reached (${s.kind === 'end' ? `${s.outcome}: ${s.reason}` : s.kind})`);
    } else if (v.from !== undefined) {
      const s = run.advance(parseCount(v.from, '--from'), false);
      if (s.kind === 'end') throw new InputError(`--from ${v.from}: the boot ended first (${s.outcome}: ${s.reason} at ${run.icount})`);
    }
    const start = run.icount;
    const early = traceRun(run, { count, format, line: out });
    if (v.json) process.stdout.write(jsonDocument('trace', { source: 'boot', format, start, out: v.out ?? null, lines: collected, ended: early || null }));
    else if (early) process.stderr.write(`bootpath trace: the boot ended: ${early}\n`);
    return 0;
  },
};
