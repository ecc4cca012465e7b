// Assemble Intel-syntax snippets with the machine's GNU as (test helper).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function assemble(source: string, bits: 16 | 32 | 64 = 64): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'bootpath-as-'));
  try {
    const s = join(dir, 'a.s'), o = join(dir, 'a.o'), bin = join(dir, 'a.bin');
    writeFileSync(s, `.intel_syntax noprefix\n.code${bits}\n${source}\n`);
    execFileSync('as', [bits === 64 ? '--64' : '--32', '-o', o, s]);
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', o, bin]);
    return new Uint8Array(readFileSync(bin));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
