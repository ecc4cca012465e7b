// Heavy check on Debian's stock kernel (fetched by kernels/fetch-debian.sh):
// parse, decompress the xz payload on the host, read the ELF, and recover its
// symbols from kallsyms alone, since Debian ships no System.map.
//   tsx kernels/check-debian.ts [cache dir]   (scripts/heavy-kernels.sh runs it)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBzImage } from '../src/boot/bzimage.ts';
import { decompressPayload } from '../src/boot/payload.ts';
import { readVmlinux } from '../src/boot/vmlinux.ts';
import { findKallsyms } from '../src/boot/kallsyms.ts';

const START_KERNEL_MAP = 0xffffffff80000000n;
const dir = process.argv[2] ?? join(import.meta.dirname, '..', '.cache', 'debian-stock');
const file = join(dir, 'vmlinuz');
const info = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8'));

let passed = 0;
let failed = 0;
function check(what: string, ok: boolean, detail = ''): void {
  ok ? passed++ : failed++;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}\n`);
}
const timed = <T>(what: string, f: () => T): T => {
  const t = performance.now();
  const r = f();
  process.stdout.write(`     ${what}: ${((performance.now() - t) / 1000).toFixed(2)} s\n`);
  return r;
};
const hex = (n: bigint) => '0x' + n.toString(16);

process.stdout.write(`${info.package} ${info.version}: ${file}\n`);
const data = readFileSync(file);
const bz = parseBzImage(data, file);
check('is an xz bzImage with protocol >= 2.12', bz.compression === 'xz' && bz.header.version >= 0x20c, `${bz.compression}, ${bz.header.version.toString(16)}`);
check('size around 8 MB', data.length > 6e6 && data.length < 12e6, `${data.length}`);
const payload = timed('host decompression (xz, BCJ)', () => decompressPayload(bz));
check('payload size word matches', payload.appendedSize === payload.decompressed.length, `${payload.decompressed.length} bytes`);
check('relocation table present', !!payload.relocs && payload.relocs.relocs64.length > 10_000);
const vm = readVmlinux(payload.elf, `${file} payload`);
check('entry is physical 16 MiB', vm.entry === 0x1000000n, hex(vm.entry));
check('no symbol table in the stripped payload', vm.symbols.length === 0);

const k = timed('kallsyms search and decode', () => findKallsyms(payload.elf));
check('kallsyms has many symbols', k.symbols.length > 50_000, `${k.symbols.length}`);
check('kallsyms is absolute-percpu (SMP x86-64)', k.absolutePercpu);
const sym = (name: string) => k.symbols.find((s) => s.name === name)?.address;
const text = vm.segments[0]!;
for (const name of ['startup_64', 'x86_64_start_kernel', 'phys_base']) {
  const a = sym(name);
  check(`${name} resolves`, a !== undefined, a === undefined ? 'missing' : hex(a));
}
check('startup_64 is the start of the text segment', sym('startup_64') === text.vaddr);
check('startup_64 is the ELF entry mapped to __START_KERNEL_map', sym('startup_64') === vm.entry + START_KERNEL_MAP);
// Section-boundary symbols from the linker script (__end_rodata...) may sit between segments.
const inImage = (a: bigint) => vm.segments.some((s) => a >= s.vaddr && a <= s.vaddr + BigInt(s.memsz));
const relocated = k.symbols.filter((s) => s.type !== 'A' && s.type !== 'a');
const outside = relocated.filter((s) => !inImage(s.address) && !s.name.startsWith('__'));
check('every non-absolute symbol lies in a PT_LOAD segment', outside.length === 0, outside.slice(0, 3).map((s) => s.name).join(' '));
let sorted = true;
for (let i = 1; i < relocated.length; i++) if (relocated[i]!.address < relocated[i - 1]!.address) sorted = false;
check('symbols come sorted by address, as kallsyms stores them', sorted);

process.stdout.write(`heavy-kernels: ${passed} passed, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
