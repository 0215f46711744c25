// CRC-32, for PNG chunks and for the checksum voxgrad writes into its safetensors files.

let crcTable: Uint32Array | undefined;

/** CRC-32 as PNG (and zlib, gzip) define it: reflected polynomial 0xEDB88320, init and final xor ~0. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
