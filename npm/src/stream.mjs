// Attachments as STREAM ciphertext (PROTOCOL.md §5), segment by segment with
// SubtleCrypto: bounded memory, and the core decides every nonce and length.
import { core, OneshareError } from './core.mjs';
import { importAesKey, openSegment, sameBytes, sealSegment } from './webcrypto.mjs';

const TAG = 16;
/** Segments decrypted in parallel per pull (keeps SubtleCrypto busy). */
const BATCH = 8;

/** Reads exact byte counts from a ReadableStream of Uint8Array chunks. */
export class ByteReader {
  constructor(stream) {
    this.reader = stream.getReader();
    this.chunks = [];
    this.buffered = 0;
    this.done = false;
  }

  async #fill(n) {
    while (this.buffered < n && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else if (value.byteLength) {
        const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
        this.chunks.push(bytes);
        this.buffered += bytes.length;
      }
    }
  }

  /** Up to `n` bytes; fewer only at the end of the stream. */
  async read(n) {
    await this.#fill(n);
    const take = Math.min(n, this.buffered);
    const first = this.chunks[0];
    if (first && first.length >= take) {
      const out = first.subarray(0, take);
      if (first.length === take) this.chunks.shift();
      else this.chunks[0] = first.subarray(take);
      this.buffered -= take;
      return out;
    }
    const out = new Uint8Array(take);
    let off = 0;
    while (off < take) {
      const c = this.chunks[0];
      const k = Math.min(c.length, take - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= take;
    return out;
  }

  /** Whether more bytes follow. */
  async hasMore() {
    await this.#fill(1);
    return this.buffered > 0;
  }

  cancel(reason) {
    return this.reader.cancel(reason);
  }
}

/**
 * Decrypts a STREAM ciphertext into a plaintext `ReadableStream`.
 * @param {ReadableStream<Uint8Array>} body ciphertext
 * @param {Uint8Array} rawKey 32-byte file key (wiped here)
 * @param {number} size plaintext size from the record (it fixes where the stream ends)
 * @param {(p: {loaded: number, total: number}) => void} [onProgress]
 */
export async function decryptStream(body, rawKey, size, onProgress) {
  const c = core();
  const seg = c.streamSegmentSize();
  const total = c.ciphertextLen(size);
  const count = Math.max(1, Math.ceil(size / seg));
  const lastLen = total - c.streamHeaderLen() - (count - 1) * (seg + TAG);
  const { key, commitment } = await importAesKey(rawKey, ['decrypt']);
  const reader = new ByteReader(body);
  const header = await reader.read(c.streamHeaderLen());
  const parsed = c.streamParseHeader(header); // truncated / unsupported_version
  if (!sameBytes(parsed.commitment, commitment)) {
    await reader.cancel();
    throw new OneshareError('wrong_key', 'wrong key: this attachment was encrypted under a different key');
  }
  let index = 0;
  let loaded = 0;
  return new ReadableStream({
    async pull(controller) {
      try {
        const jobs = [];
        while (jobs.length < BATCH && index < count) {
          const last = index === count - 1;
          const want = last ? lastLen : seg + TAG;
          const ct = await reader.read(want);
          if (ct.length < want) {
            throw new OneshareError('truncated', 'attachment is truncated: the final segment is missing');
          }
          if (last && (await reader.hasMore())) {
            throw new OneshareError('trailing_data', 'attachment has data after its final segment');
          }
          jobs.push(openSegment(key, c.segmentNonce(parsed.prefix, index, last), ct));
          index += 1;
        }
        for (const pt of await Promise.all(jobs)) {
          controller.enqueue(pt);
          loaded += pt.length;
        }
        onProgress?.({ loaded, total: size });
        if (index === count) controller.close();
      } catch (e) {
        reader.cancel().catch(() => {});
        controller.error(e);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Plaintext segments of a Blob, a Uint8Array or a ReadableStream of known size. */
async function* plaintextSegments(source, size, seg) {
  const count = Math.max(1, Math.ceil(size / seg));
  if (source instanceof Blob) {
    const step = seg * 64; // read 4 MiB at a time
    let produced = 0;
    for (let off = 0; off < size || produced === 0; off += step) {
      const buf = new Uint8Array(await source.slice(off, Math.min(off + step, size)).arrayBuffer());
      for (let i = 0; i < buf.length || produced === 0; i += seg) {
        produced += 1;
        yield buf.subarray(i, Math.min(i + seg, buf.length));
        if (buf.length === 0) break;
      }
    }
    return;
  }
  if (source instanceof Uint8Array) {
    for (let i = 0; i < count; i++) yield source.subarray(i * seg, Math.min((i + 1) * seg, size));
    return;
  }
  const reader = new ByteReader(source);
  for (let i = 0; i < count; i++) {
    const want = i === count - 1 ? size - i * seg : seg;
    const chunk = await reader.read(want);
    if (chunk.length !== want) throw new OneshareError('length', 'the attachment stream is shorter than its declared size');
    yield chunk;
  }
  if (await reader.hasMore()) throw new OneshareError('length', 'the attachment stream is longer than its declared size');
}

/**
 * Encrypts an attachment under `header` (from `streamHeader`, fixed per file so a
 * resumed upload produces the same bytes) and yields its ciphertext in parts of
 * `partSize` bytes (the last may be shorter), starting at part `fromPart`.
 * @returns {AsyncGenerator<{index: number, bytes: Uint8Array, plaintextDone: number}>}
 */
export async function* encryptParts(source, size, rawKey, header, partSize, fromPart = 0) {
  const c = core();
  const seg = c.streamSegmentSize();
  const { prefix } = c.streamParseHeader(header);
  const { key } = await importAesKey(rawKey, ['encrypt']);
  const count = Math.max(1, Math.ceil(size / seg));
  let pieces = [header];
  let buffered = header.length;
  let part = 0;
  let counter = 0;
  let plaintextDone = 0;
  const emit = function* (final) {
    while (buffered >= partSize || (final && buffered > 0)) {
      const take = Math.min(partSize, buffered);
      const bytes = new Uint8Array(take);
      let off = 0;
      while (off < take) {
        const p = pieces[0];
        const k = Math.min(p.length, take - off);
        bytes.set(p.subarray(0, k), off);
        off += k;
        if (k === p.length) pieces.shift();
        else pieces[0] = p.subarray(k);
      }
      buffered -= take;
      if (part >= fromPart) yield { index: part, bytes, plaintextDone };
      part += 1;
    }
  };
  for await (const chunk of plaintextSegments(source, size, seg)) {
    const last = counter === count - 1;
    // Parts before `fromPart` are already on the relay; they are still encrypted
    // (the stream is sequential) but never sent.
    const ct = await sealSegment(key, c.segmentNonce(prefix, counter, last), chunk);
    counter += 1;
    plaintextDone += chunk.length;
    pieces.push(ct);
    buffered += ct.length;
    yield* emit(false);
  }
  yield* emit(true);
  pieces = [];
}
