// Cuts kexec-tools' purgatory out of the `kexec` binary. kexec embeds it as a
// byte array holding an ELF64 relocatable (ET_REL, x86-64); ld -r puts the
// section header table last, so the object ends at the furthest of that table
// and any section's data. Usage: tsx kernels/extract-purgatory.ts <kexec> <out>
import { readFileSync, writeFileSync } from 'node:fs';

const [kexecPath, outPath] = process.argv.slice(2);
if (!kexecPath || !outPath) {
  process.stderr.write('usage: tsx kernels/extract-purgatory.ts <kexec> <out>\n');
  process.exit(2);
}
const bin = readFileSync(kexecPath);
const magic = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // ELF, 64-bit, LE, v1

function objectEnd(at: number): number {
  const shoff = Number(bin.readBigUInt64LE(at + 0x28));
  const shentsize = bin.readUInt16LE(at + 0x3a);
  const shnum = bin.readUInt16LE(at + 0x3c);
  let end = shoff + shentsize * shnum;
  for (let i = 0; i < shnum; i++) {
    const sh = at + shoff + i * shentsize;
    const type = bin.readUInt32LE(sh + 4);
    if (type === 8) continue; // SHT_NOBITS (.bss) occupies no file bytes
    const off = Number(bin.readBigUInt64LE(sh + 0x18));
    const size = Number(bin.readBigUInt64LE(sh + 0x20));
    end = Math.max(end, off + size);
  }
  return end;
}

const found: { offset: number; size: number }[] = [];
for (let at = bin.indexOf(magic, 1); at >= 0; at = bin.indexOf(magic, at + 1)) {
  const type = bin.readUInt16LE(at + 16);
  const machine = bin.readUInt16LE(at + 18);
  if (type === 1 && machine === 0x3e) found.push({ offset: at, size: objectEnd(at) });
}
if (found.length !== 1) {
  process.stderr.write(`${kexecPath}: expected exactly one embedded x86-64 ELF relocatable, found ${found.length}\n`);
  process.exit(1);
}
const { offset, size } = found[0]!;
const obj = bin.subarray(offset, offset + size);
// Sanity: the entry symbol kexec-tools looks up must be in its string table.
if (!obj.includes(Buffer.from('\0purgatory_start\0'))) {
  process.stderr.write(`${kexecPath}: object at 0x${offset.toString(16)} has no purgatory_start symbol\n`);
  process.exit(1);
}
writeFileSync(outPath, obj);
process.stdout.write(JSON.stringify({ offset: `0x${offset.toString(16)}`, size }) + '\n');
