// Attachment decrypt throughput of the SDK (decryptAttachment: STREAM parsing,
// nonces from the core, SubtleCrypto per segment) as a ratio to raw SubtleCrypto
// AES-GCM over the same segments with the best batching we found.
const SEG = 65536;
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
  // Warm up both paths once, then take the best of three runs each.
  await rawDecrypt(blob, key, prefix, count, testing);
  await sdkDecrypt(blob, key, size, decryptAttachment);
  let raw = Infinity;
  let sdk = Infinity;
  for (let r = 0; r < 3; r++) {
    const a = await rawDecrypt(blob, key, prefix, count, testing);
    const b = await sdkDecrypt(blob, key, size, decryptAttachment);
    if (a.total !== size || b.total !== size) throw new Error('size mismatch');
    raw = Math.min(raw, a.ms);
    sdk = Math.min(sdk, b.ms);
  }
  const mbps = (ms) => size / 1e6 / (ms / 1000);
  // For the record: the same decryption in wasm (RustCrypto aes-gcm), which is
  // why bulk attachment crypto goes through SubtleCrypto.
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const t0 = performance.now();
  const plain = testing.streamOpen(key, bytes);
  const wasmMs = performance.now() - t0;
  if (plain.length !== size) throw new Error('size mismatch');
  return { mib, rawMBps: mbps(raw), sdkMBps: mbps(sdk), wasmMBps: mbps(wasmMs), ratio: raw / sdk };
}
