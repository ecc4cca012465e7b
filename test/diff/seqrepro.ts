// One generated sequence in full: its code, the host's and the core's results.
//   npx tsx test/diff/seqrepro.ts <n>        (BOOTPATH_DIFF_SEED as in the test)
import { compareCase } from './compare.ts';
import { OUT_SIZE, REG_NAMES, unpackResult } from './layout.ts';
import { buildHarness } from './native.ts';
import { runSeed } from './rng.ts';
import { SEQ_CODE_MAX, SeqRunner, generateSeq, seqAsCase, seqDisasm } from './seq.ts';

const seed = runSeed();
const n = Number(process.argv[2] ?? 0);
const s = generateSeq(seed, n);
console.log(`${s.id} seed ${seed}: ${s.iterations} iterations, ${s.input.code.length} bytes`);
console.log(seqDisasm(s.input.code).join('\n'));
console.log('in: ' + REG_NAMES.map((r, i) => `${r}=${s.input.gpr[i]!.toString(16)}`).join(' ') + ` rflags=${s.input.rflags.toString(16)}`);
const native = buildHarness(SEQ_CODE_MAX);
const host = native.runRaw([s.input]);
native.dispose();
for (const [mode, th, wasm] of [['interpreter', 0, false], ['compiled', 2, false], ['wasm', 2, true]] as const) {
  const out = Buffer.alloc(OUT_SIZE);
  new SeqRunner(th, wasm).run(s, out, 0);
  const d = compareCase(seqAsCase(s), host, 0, out, 0);
  console.log(`${mode}: ${d.length ? d.join('; ') : 'matches the host'}`);
}
const h = unpackResult(host, 0);
console.log('host: ' + REG_NAMES.map((r, i) => `${r}=${h.gpr[i]!.toString(16)}`).join(' ') + ` rflags=${h.rflags.toString(16)} vector=${h.vector}`);
