// Mutated copies of the bundled purgatory object (bytes changed in its
// section headers, symbol table and relocation tables): every one either
// links or is refused with an InputError naming the file — never a host
// exception (a RangeError from a symbol or relocation outside its section
// used to escape).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { planKexecLoad, BUNDLED_PURGATORY } from '../../src/boot/kexec/index.ts';
import { InputError } from '../../src/errors.ts';
import { tinyBzImagePath } from '../boot/tinyKernel.ts';

describe('purgatory object, mutated', () => {
  it('links or gives an InputError for 300 mutants of its tables (fixed seed)', () => {
    const pg = new Uint8Array(readFileSync(BUNDLED_PURGATORY));
    const kernel = new Uint8Array(readFileSync(tinyBzImagePath('gzip')));
    const dv = new DataView(pg.buffer);
    const shoff = Number(dv.getBigUint64(0x28, true)), shnum = dv.getUint16(0x3c, true);
    const areas: [number, number][] = [[shoff, shnum * 64]];
    for (let i = 0; i < shnum; i++) {
      const h = shoff + i * 64, type = dv.getUint32(h + 4, true);
      if (type === 2 || type === 4) areas.push([Number(dv.getBigUint64(h + 0x18, true)), Number(dv.getBigUint64(h + 0x20, true))]); // SYMTAB, RELA
    }
    let seed = 777;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const m = pg.slice();
      for (let k = 1 + (rnd() % 6); k > 0; k--) { const [a, l] = areas[rnd() % areas.length]!; m[a + (rnd() % l)] = rnd() & 0xff; }
      try {
        planKexecLoad({ kernel, purgatory: m, ramSize: 512 << 20 });
      } catch (e) {
        if (!(e instanceof InputError)) throw new Error(`mutant ${i}: ${(e as Error).stack}`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(5);
  });

  it('refuses, naming the symbol, a variable kexec sets whose value or size points outside its section', () => {
    const pg = new Uint8Array(readFileSync(BUNDLED_PURGATORY));
    const kernel = new Uint8Array(readFileSync(tinyBzImagePath('gzip')));
    const dv = new DataView(pg.buffer);
    const shoff = Number(dv.getBigUint64(0x28, true)), shnum = dv.getUint16(0x3c, true);
    const sh = (i: number) => ({ type: dv.getUint32(shoff + i * 64 + 4, true), offset: Number(dv.getBigUint64(shoff + i * 64 + 0x18, true)), size: Number(dv.getBigUint64(shoff + i * 64 + 0x20, true)), link: dv.getUint32(shoff + i * 64 + 0x28, true) });
    const symtab = [...Array(shnum).keys()].map(sh).find((h) => h.type === 2)!;
    const strtab = sh(symtab.link);
    const nameAt = (o: number) => { let e = strtab.offset + o; const st = e; while (pg[e] !== 0) e++; return Buffer.from(pg.subarray(st, e)).toString('latin1'); };
    const entryOf = (name: string) => {
      for (let e = symtab.offset; e < symtab.offset + symtab.size; e += 24) if (nameAt(dv.getUint32(e, true)) === name) return e;
      throw new Error(`no symbol ${name}`);
    };
    for (const name of ['entry32_regs', 'sha256_regions', 'sha256_digest', 'cmdline_end']) {
      for (const field of [8, 16]) { // st_value, st_size
        const m = pg.slice();
        new DataView(m.buffer).setBigUint64(entryOf(name) + field, 0x7fff0000n, true);
        let err: unknown = null;
        try { planKexecLoad({ kernel, purgatory: m, ramSize: 512 << 20, entry: 32 }); } catch (e) { err = e; }
        expect(err, `${name} ${field === 8 ? 'value' : 'size'}`).toBeInstanceOf(InputError);
        expect((err as Error).message).toContain(name);
      }
    }
  });
});
