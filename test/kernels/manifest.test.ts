// The bundled kernels and purgatory match kernels/manifest.json byte for byte.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const kernelsDir = fileURLToPath(new URL('../../kernels/', import.meta.url));
const manifest = JSON.parse(readFileSync(kernelsDir + 'manifest.json', 'utf8')) as Record<
  string,
  { dir: string; source: { package: string; version: string }; configSha256?: string; files: Record<string, { size: number; sha256: string }> }
>;

describe('kernels/manifest.json', () => {
  it('lists the tiny kernels and the purgatory', () => {
    expect(Object.keys(manifest).sort()).toEqual(['purgatory', 'tiny-6.1']);
    expect(manifest['tiny-6.1']!.source.package).toBe('linux-source-6.1');
    expect(manifest['purgatory']!.source.package).toBe('kexec-tools');
    const files = Object.keys(manifest['tiny-6.1']!.files);
    for (const c of ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd']) expect(files).toContain(`bzImage.${c}`);
    expect(files).toEqual(expect.arrayContaining(['vmlinux', 'System.map', 'config']));
    expect(manifest['tiny-6.1']!.configSha256).toBe(manifest['tiny-6.1']!.files['config']!.sha256);
  });

  describe.each(Object.entries(manifest))('%s', (_name, section) => {
    it('has exactly the files the manifest lists', () => {
      expect(readdirSync(kernelsDir + section.dir).sort()).toEqual(Object.keys(section.files).sort());
    });
    it.each(Object.entries(section.files))('%s matches its size and sha256', (file, want) => {
      const data = readFileSync(`${kernelsDir}${section.dir}/${file}`);
      expect(data.length).toBe(want.size);
      expect(createHash('sha256').update(data).digest('hex')).toBe(want.sha256);
    });
  });
});
