/** The bytes of a Buffer as a plain Uint8Array, without a copy (a kernel payload is tens of MB). */
export const viewOf = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
