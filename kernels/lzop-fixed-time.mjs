#!/usr/bin/env node
// `lzop` for the kernel build (make KLZOP=...), made reproducible: lzop stores
// the current time as the mtime of data read from stdin (--no-time does not
// stop it), so the lzo bzImage changed on every build. This runs lzop with the
// given arguments, sets the header's mtime to the build's fixed timestamp and
// recomputes the header checksum.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const FIXED_MTIME = Number(process.env.LZOP_MTIME ?? 1767225600); // 2026-01-01T00:00:00Z, as KBUILD_BUILD_TIMESTAMP
const F_H_FILTER = 0x800;
const F_H_CRC32 = 0x1000;

const run = spawnSync('lzop', process.argv.slice(2), { input: readFileSync(0), maxBuffer: 1 << 30 });
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  process.exit(run.status ?? 1);
}
const out = run.stdout;
const be16 = (o) => out.readUInt16BE(o);
let p = 9; // after the magic; the header checksum covers from here
const version = be16(p);
p += 4;
if (version >= 0x0940) p += 2;
p += 1;
if (version >= 0x0940) p += 1;
const flags = out.readUInt32BE(p);
p += 4;
if (flags & F_H_FILTER) p += 4;
p += 4; // mode
out.writeUInt32BE(FIXED_MTIME >>> 0, p);
p += 4;
if (version >= 0x0940) {
  out.writeUInt32BE(0, p); // mtime_high
  p += 4;
}
p += 1 + out[p];
const header = out.subarray(9, p);
out.writeUInt32BE(flags & F_H_CRC32 ? crc32(header) : adler32(header), p);
writeFileSync(1, out);

function adler32(data) {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
