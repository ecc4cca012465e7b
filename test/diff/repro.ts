// Re-run one differential case by id and show everything about it:
//   npx tsx test/diff/repro.ts 'adc r/m64,r64#17'
// (BOOTPATH_DIFF_SEED=<seed> selects the run seed, as in the test.)

import { compareCase, flagNames, vectorName } from './compare.ts';
import { CoreRunner } from './core.ts';
import { caseFromId, type Case } from './generate.ts';
import { disasm } from './disasm.ts';
import { CODE_ENTRY, OUT_SIZE, REG_NAMES } from './layout.ts';
import { ORACLE_LABEL, buildHarness, qemuMissing } from './native.ts';
import { runSeed } from './rng.ts';

export { disasm };

/** The one-line reproducer printed for a failing case. */
export function reproLine(c: Case, seed = runSeed()): string {
  const env = process.env['BOOTPATH_DIFF_SEED'] ? `BOOTPATH_DIFF_SEED=${seed} ` : '';
  return `${env}npx tsx test/diff/repro.ts '${c.id}'`;
}

function describe(c: Case): string[] {
  const i = c.input;
  const lines = [
    `case   ${c.id}  (seed ${runSeed()})`,
    `bytes  ${Buffer.from(i.code).toString('hex')}  at 0x${CODE_ENTRY.toString(16)}`,
    `insn   ${disasm(i.code, i.mode ?? 64)}`,
    `flags  in: ${flagNames(i.rflags)} (0x${i.rflags.toString(16)})   compared: ${flagNames(c.masks.flags)}`,
  ];
  for (let r = 0; r < 16; r += 4) lines.push('regs   ' + [0, 1, 2, 3].map((j) => `${REG_NAMES[r + j]!.padStart(3)}=${i.gpr[r + j]!.toString(16).padStart(16, '0')}`).join(' '));
  for (const p of i.patches) lines.push(`memory 0x${p.addr.toString(16)}: ${Buffer.from(p.bytes).toString('hex')}`);
  if (i.target) lines.push(`target 0x${i.target.toString(16)}`);
  for (const n of c.masks.notes) lines.push(`masked ${n}`);
  return lines;
}

async function main(): Promise<void> {
  const id = process.argv[2];
  if (!id) { console.error("usage: npx tsx test/diff/repro.ts '<form id>#<n>'"); process.exit(2); }
  const c = caseFromId(runSeed(), id);
  for (const l of describe(c)) console.log(l);
  // A 32-bit case runs where the test runs it: on the host CPU if it runs 32-bit code, else under QEMU.
  let h = buildHarness();
  if (c.input.mode === 32 && !h.features().has('compat32') && !qemuMissing()) { h.dispose(); h = buildHarness(16, 'qemu-i386'); }
  console.log(`oracle ${ORACLE_LABEL[h.oracle]}`);
  try {
    const why = h.skip(c);
    if (why) console.log(`not run on this oracle by the test: ${why}`);
    const host = h.runRaw([c.input]);
    if (h.died.size) { console.log(h.died.get(0)); return; }
    const cc = h.compared(c, host, 0);
    for (const n of cc.masks.notes.slice(c.masks.notes.length)) console.log(`masked ${n}`);
    const core = Buffer.alloc(OUT_SIZE);
    const runner = new CoreRunner();
    runner.run(c, core, 0);
    const show = (name: string, b: Buffer) => {
      console.log(`${name.padEnd(6)} ${vectorName(b.readInt32LE(0))} rip=0x${b.readBigUInt64LE(136).toString(16)} flags=${flagNames(b.readUInt32LE(144))}`);
      const regs = [...Array(16).keys()].map((r) => `${REG_NAMES[r]}=${b.readBigUInt64LE(8 + 8 * r).toString(16)}`);
      console.log(`       ${regs.join(' ')}`);
    };
    show('host', host);
    show('core', core);
    if (runner.crashes.has(c.id)) console.log(`core threw: ${runner.crashes.get(c.id)}`);
    const d = compareCase(cc, host, 0, core, 0);
    console.log(d.length ? `MISMATCH\n  ${d.join('\n  ')}` : 'match');
    process.exitCode = d.length ? 1 : 0;
  } finally {
    h.dispose();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
