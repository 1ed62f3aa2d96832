// Gzip files of several members, as Python's gzip module (and so clients/files) reads them: bgzip's
// BGZF blocks, `cat a.gz b.gz`. The browser's DecompressionStream stops after the first member ("junk
// found after end of compressed data"), so each member is decompressed on its own: a BGZF block gives
// its size in its header (the BC extra field); another member ends where its trailer (the CRC-32 and
// length of what it decompressed to) is followed by the next member, zero padding or the file's end.

let table = null;

function crc32(chunks) {
  if (table === null) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const chunk of chunks) for (const byte of chunk) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const u16 = (b, at) => b[at] | (b[at + 1] << 8);
const u32 = (b, at) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const isMember = (b, at) => b[at] === 0x1f && b[at + 1] === 0x8b;
const zerosFrom = (b, at) => b.subarray(at).every((x) => x === 0);

/** The size of the BGZF block at `at` (its BC extra field), or null when it is not one. */
function bgzfSize(bytes, at) {
  if (!(bytes[at + 3] & 4) || at + 12 > bytes.length) return null; // no FEXTRA
  const end = at + 12 + u16(bytes, at + 10);
  for (let p = at + 12; p + 4 <= end; p += 4 + u16(bytes, p + 2)) {
    if (bytes[p] === 66 && bytes[p + 1] === 67 && u16(bytes, p + 2) === 2) return u16(bytes, p + 4) + 1;
  }
  return null;
}

/** What DecompressionStream gives for `bytes` before it stops, and the error it stopped with, if any. */
async function inflate(bytes) {
  const input = new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const reader = input.pipeThrough(new DecompressionStream("gzip")).getReader();
  const chunks = [];
  let length = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { chunks, length, failed: null };
      chunks.push(value);
      length += value.length;
    }
  } catch (error) {
    return { chunks, length, failed: error };
  }
}

/** Where the member that starts at `from` and decompressed to `chunks` (`length` bytes) ends: -1 if
 * no trailer of theirs is found. */
function memberEnd(bytes, from, chunks, length) {
  const crc = crc32(chunks);
  const size = length % 2 ** 32;
  for (let p = from + 18; p <= bytes.length; p++) {
    if (u32(bytes, p - 4) !== size || u32(bytes, p - 8) !== crc) continue;
    if (p === bytes.length || isMember(bytes, p) || zerosFrom(bytes, p)) return p;
  }
  return -1;
}

function joined(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The bytes of every gzip member of `bytes`, one after another. */
export async function gunzip(bytes) {
  const parts = [];
  let at = 0;
  while (at < bytes.length && !zerosFrom(bytes, at)) {
    if (!isMember(bytes, at)) throw new Error(`not gzip data at byte ${at}`);
    const size = bgzfSize(bytes, at);
    const end = size !== null && at + size <= bytes.length ? at + size : bytes.length;
    const { chunks, length, failed } = await inflate(bytes.subarray(at, end));
    parts.push(...chunks);
    if (failed === null) {
      at = end;
      continue;
    }
    const next = memberEnd(bytes, at, chunks, length);
    if (next < 0) throw failed;
    at = next;
  }
  return joined(parts);
}
