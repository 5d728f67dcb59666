// Attachment decrypt throughput of the SDK (decryptAttachment: STREAM parsing,
// nonces from the core, SubtleCrypto per segment) as a ratio to raw SubtleCrypto
// AES-GCM over the same segments with the best batching we found, in alternating
// runs (median of the per-pair ratios).
const SEG = 65536;
/** Alternating raw/SDK runs per benchmark. */
const ROUNDS = 7;

const middle = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

/** Median times and the median, lowest and highest of the per-pair ratios raw/SDK. */
function summarize(pairs) {
  const ratios = pairs.map(([raw, sdk]) => raw / sdk);
  return {
    raw: middle(pairs.map((p) => p[0])),
    sdk: middle(pairs.map((p) => p[1])),
    ratio: middle(ratios),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
  };
}
const TAG = 16;
const HEADER = 24;

async function encryptFixture(size, c) {
  const key = c.randomKey();
  const header = c.streamHeader(key);
  const { prefix } = c.streamParseHeader(header);
  const aes = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  const count = Math.max(1, Math.ceil(size / SEG));
  const parts = [header];
  const plain = crypto.getRandomValues(new Uint8Array(SEG));
  for (let i = 0; i < count; i++) {
    const len = i === count - 1 ? size - i * SEG : SEG;
    const iv = c.segmentNonce(prefix, i, i === count - 1);
    parts.push(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, plain.subarray(0, len))));
  }
  return { key, prefix, blob: new Blob(parts), count };
}

async function rawDecrypt(blob, key, prefix, count, c) {
  // Baseline: the same bytes, read from the same Blob, decrypted segment by
  // segment with 8 in flight; nonces precomputed so only AES-GCM is timed.
  const aes = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
  const nonces = Array.from({ length: count }, (_, i) => c.segmentNonce(prefix, i, i === count - 1));
  const t0 = performance.now();
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let total = 0;
  for (let i = 0; i < count; i += 8) {
    const jobs = [];
    for (let j = i; j < Math.min(count, i + 8); j++) {
      const start = HEADER + j * (SEG + TAG);
      const end = Math.min(bytes.length, start + SEG + TAG);
      jobs.push(crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonces[j] }, aes, bytes.subarray(start, end)));
    }
    for (const pt of await Promise.all(jobs)) total += pt.byteLength;
  }
  return { ms: performance.now() - t0, total };
}

async function sdkDecrypt(blob, key, size, decryptAttachment) {
  const t0 = performance.now();
  const stream = await decryptAttachment(blob.stream(), key.slice(), size);
  const reader = stream.getReader();
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
  }
  return { ms: performance.now() - t0, total };
}

export async function benchDecrypt(mib, { testing, decryptAttachment }) {
  const size = mib * 1024 * 1024;
  const { key, prefix, blob, count } = await encryptFixture(size, testing);
  // Warm up both paths once, then alternate them; the ratio of each pair of
  // runs is taken, so load from other processes hits both sides alike.
  await rawDecrypt(blob, key, prefix, count, testing);
  await sdkDecrypt(blob, key, size, decryptAttachment);
  const pairs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = await rawDecrypt(blob, key, prefix, count, testing);
    const b = await sdkDecrypt(blob, key, size, decryptAttachment);
    if (a.total !== size || b.total !== size) throw new Error('size mismatch');
    pairs.push([a.ms, b.ms]);
  }
  const { raw, sdk, ratio, low, high } = summarize(pairs);
  const mbps = (ms) => size / 1e6 / (ms / 1000);
  return { mib, rawMBps: mbps(raw), sdkMBps: mbps(sdk), ratio, low, high };
}

// Upload-encrypt throughput of the SDK (encryptAttachment: the upload path's
// part encryption, without the upload) as a ratio to raw SubtleCrypto AES-GCM over
// the same segments, read from the same Blob part by part, every segment of a
// part in flight, the ciphertext left in a Blob.
const PART_SEGMENTS = 64; // the relay's default part size

async function rawEncrypt(file, key, prefix, c) {
  const aes = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  const count = Math.max(1, Math.ceil(file.size / SEG));
  const nonces = Array.from({ length: count }, (_, i) => c.segmentNonce(prefix, i, i === count - 1));
  const t0 = performance.now();
  const parts = [c.streamHeader(key, prefix)];
  for (let first = 0; first < count; first += PART_SEGMENTS) {
    const last = Math.min(count, first + PART_SEGMENTS);
    const plain = new Uint8Array(await file.slice(first * SEG, Math.min(file.size, last * SEG)).arrayBuffer());
    const jobs = [];
    for (let i = first; i < last; i++) {
      const at = (i - first) * SEG;
      jobs.push(crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonces[i] }, aes, plain.subarray(at, Math.min(plain.length, at + SEG))));
    }
    parts.push(...(await Promise.all(jobs)));
  }
  const blob = new Blob(parts);
  return { ms: performance.now() - t0, total: blob.size };
}

async function sdkEncrypt(file, key, encryptAttachment) {
  const t0 = performance.now();
  const blob = await encryptAttachment(file, key.slice(), PART_SEGMENTS);
  return { ms: performance.now() - t0, total: blob.size, blob };
}

export async function benchEncrypt(mib, { testing, decryptAttachment }) {
  const size = mib * 1024 * 1024;
  const parts = [];
  for (let at = 0; at < size; at += SEG) parts.push(crypto.getRandomValues(new Uint8Array(Math.min(SEG, size - at))));
  const file = new Blob(parts);
  const key = testing.randomKey();
  const { prefix } = testing.streamParseHeader(testing.streamHeader(key));
  // The SDK's ciphertext must open (same key, its own prefix) to the file.
  const check = await sdkEncrypt(file, key, testing.encryptAttachment);
  const reader = (await decryptAttachment(check.blob.stream(), key.slice(), size)).getReader();
  let opened = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) opened += r.value.length;
  if (opened !== size) throw new Error('the SDK ciphertext did not open');
  await rawEncrypt(file, key, prefix, testing);
  const pairs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = await rawEncrypt(file, key, prefix, testing);
    const b = await sdkEncrypt(file, key, testing.encryptAttachment);
    if (a.total !== b.total) throw new Error('size mismatch');
    pairs.push([a.ms, b.ms]);
  }
  const { raw, sdk, ratio, low, high } = summarize(pairs);
  const mbps = (ms) => size / 1e6 / (ms / 1000);
  return { mib, rawMBps: mbps(raw), sdkMBps: mbps(sdk), ratio, low, high };
}
