// A guest that jumps into nowhere must not take the host down: the ELF of a
// bare-metal program with its entry point moved into zero-filled RAM
// (found by fuzzing the multiboot loader: it used to grow the decoded-block
// cache past 4 GB and abort V8). The run ends as a runaway with a dump.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, buildDir } from './firmware.ts';

const run = promisify(execFile);

describe('runaway execution', () => {
  it('an entry point in zero-filled RAM ends as a runaway with a state dump, exit 1, quickly', async () => {
    const dir = buildDir();
    const elf = readFileSync(await build('hello', dir));
    const bad = Buffer.from(elf);
    bad.writeUInt32LE(0x89000c, 0x18); // e_entry of the ELF32 header
    const file = join(dir, 'entry-into-zeros.elf');
    writeFileSync(file, bad);
    const t0 = Date.now();
    const e = await run('node', ['bin/bootpath.js', 'multiboot', file], { timeout: 60_000 }).catch((x: { code: number; stderr: string; signal?: string }) => x);
    const r = e as { code: number; stderr: string; signal?: string };
    expect(r.signal ?? null).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/runaway: the CPU ran into zero-filled memory/);
    expect(r.stderr).toMatch(/rip/i);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});
