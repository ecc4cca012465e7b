// iced-x86, loaded with require() rather than an ESM import. The package is
// CommonJS (0.9 MB of wasm-bindgen glue around its decoder): importing it as
// ESM makes Node scan the whole source for export names and read it twice,
// which took about a quarter of a second of every start against 80 ms for
// require(). The decoder (decode.ts) and src/'s disassemblers take it here.
import { createRequire } from 'node:module';

type Iced = typeof import('iced-x86');
const iced = createRequire(import.meta.url)('iced-x86') as Iced;

export const { Decoder, DecoderError, DecoderOptions, Formatter, FormatterSyntax, Instruction, InstructionInfoFactory, OpKind, OpAccess, Register, FlowControl, Code, Mnemonic, MemorySizeExt } = iced;
export type Decoder = import('iced-x86').Decoder;
export type DecoderError = import('iced-x86').DecoderError;
export type DecoderOptions = import('iced-x86').DecoderOptions;
export type Formatter = import('iced-x86').Formatter;
export type FormatterSyntax = import('iced-x86').FormatterSyntax;
export type Instruction = import('iced-x86').Instruction;
export type InstructionInfoFactory = import('iced-x86').InstructionInfoFactory;
export type OpKind = import('iced-x86').OpKind;
export type OpAccess = import('iced-x86').OpAccess;
export type Register = import('iced-x86').Register;
export type FlowControl = import('iced-x86').FlowControl;
export type Code = import('iced-x86').Code;
export type Mnemonic = import('iced-x86').Mnemonic;
export type MemorySizeExt = import('iced-x86').MemorySizeExt;
