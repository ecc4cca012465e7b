// One entry point for every payload format. Which decoder does the work:
//   gzip  node:zlib (native; pako (npm) for the error of a stream zlib rejects)
//                                    bzip2 seek-bzip (npm)
//   lzma  @napi-rs/lzma (npm)        zstd  fzstd (npm)
//   xz    our container + BCJ, LZMA2 by @napi-rs/lzma
//   lz4   our legacy framing, blocks by lz4js (npm)
//   lzo   ours (lzop container + LZO1X)
import { gunzipSync } from 'node:zlib';
import type { Compression } from '../compression.ts';
import { unxz } from './xz.ts';
import { viewOf } from './view.ts';
import { lazyPackage } from '../../lazyPackage.ts';
import { unlz4Legacy } from './lz4legacy.ts';
import { unlzop } from './lzo.ts';

const pako = lazyPackage<typeof import('pako')>('pako');
const seekBzip = lazyPackage<typeof import('seek-bzip').default>('seek-bzip');
const napiLzma = lazyPackage<typeof import('@napi-rs/lzma')>('@napi-rs/lzma');
const fzstd = lazyPackage<typeof import('fzstd')>('fzstd');

/** Decompresses one complete stream of `format` (no trailing size word). */
export function decompress(format: Compression, data: Uint8Array): Uint8Array {
  switch (format) {
    case 'gzip':
      // Native zlib is about 3× faster than pako on a kernel payload (part of the fixed cost before the first instruction).
      try {
        return viewOf(gunzipSync(data));
      } catch {
        return pako().inflate(data);
      }
    case 'bzip2':
      return viewOf(seekBzip().decode(data));
    case 'lzma':
      return viewOf(napiLzma().lzma.decompressSync(data));
    case 'xz':
      return unxz(data);
    case 'lzo':
      return unlzop(data);
    case 'lz4':
      return unlz4Legacy(data);
    case 'zstd':
      return fzstd().decompress(data);
  }
}
