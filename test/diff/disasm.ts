// One case's bytes as iced decodes them, noting a length that differs from
// the encoding (the case would be more than one instruction).

import { Decoder, DecoderOptions, Formatter, FormatterSyntax } from 'iced-x86';
import { CODE_ENTRY } from './layout.ts';

export function disasm(code: Uint8Array, bits: 32 | 64 = 64): string {
  const d = new Decoder(bits, code, DecoderOptions.None);
  d.ip = BigInt(CODE_ENTRY);
  const ins = d.decode();
  const fmt = new Formatter(FormatterSyntax.Intel);
  const text = fmt.format(ins);
  const len = ins.length;
  ins.free(); fmt.free(); d.free();
  return len === code.length ? text : `${text} (decoder length ${len} ≠ ${code.length})`;
}
