// Types for the untyped npm decoders src/boot uses.
declare module 'lz4js' {
  /** Decodes one raw LZ4 block from src[sIndex, sIndex+sLength) into dst at dIndex; returns the new dIndex. */
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
  const lz4js: { decompressBlock: typeof decompressBlock };
  export default lz4js;
}

declare module 'seek-bzip' {
  interface Bunzip {
    /** Decodes a whole .bz2 stream (optionally several concatenated). */
    decode(input: Uint8Array, output?: Uint8Array, multistream?: boolean): Buffer;
  }
  const Bunzip: Bunzip;
  export default Bunzip;
}

declare module 'elfy' {
  // Only what src/boot reads. elfy turns 64-bit fields into JS numbers, which
  // are inexact above 2^53: exact addresses are re-read from the raw bytes.
  interface ElfyProgram {
    type: string | number;
    offset: number;
    filesz: number;
    memsz: number;
    flags: Record<string, boolean>;
    data: Buffer;
  }
  interface ElfySection {
    name: string;
    type: string | number;
    off: number;
    size: number;
    link: number;
    data: Buffer;
  }
  interface ElfyFile {
    class: string;
    endian: string;
    type: string;
    machine: string;
    phoff: number;
    shoff: number;
    phentsize: number;
    shentsize: number;
    body: { programs: ElfyProgram[]; sections: ElfySection[] };
  }
  const elfy: { parse(buf: Buffer): ElfyFile };
  export default elfy;
}
