// WebCrypto: non-extractable keys, ECDSA signatures and AES-GCM for envelopes and
// STREAM segments. Layouts, nonces and AADs come from the core.
import { core, OneshareError } from './core.mjs';

const subtle = () => {
  if (!globalThis.crypto?.subtle) {
    throw new OneshareError('insecure_context', 'WebCrypto is unavailable: serve the page over https (or http://localhost)');
  }
  return globalThis.crypto.subtle;
};

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };
const utf8 = new TextEncoder();

/** Random bytes from the platform CSPRNG. */
export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * A non-extractable ECDSA P-256 key pair: `{privateKey, publicKey}` where
 * `publicKey` is the 65-byte raw point the relay knows.
 */
export async function generateSigningKey() {
  const pair = await subtle().generateKey(ECDSA, false, ['sign', 'verify']);
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/** P1363 `r || s` signature of the UTF-8 text (what the relay verifies). */
export async function signText(privateKey, text) {
  return new Uint8Array(await subtle().sign(SIGN, privateKey, utf8.encode(text)));
}

/**
 * Imports 32 raw bytes as a non-extractable AES-GCM key and wipes the bytes.
 * Returns `{key, commitment}`: the commitment checks envelopes without the bytes.
 */
export async function importAesKey(raw, usages = ['encrypt', 'decrypt']) {
  const commitment = core().commitment(raw);
  try {
    const key = await subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, usages);
    return { key, commitment };
  } finally {
    raw.fill(0);
  }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Opens an envelope with a non-extractable AES-GCM key (PROTOCOL.md §3 order). */
export async function openEnvelope(key, commitment, aad, bytes) {
  const env = core().envelopeParse(bytes);
  if (!sameBytes(env.commitment, commitment)) {
    throw new OneshareError('wrong_key', 'wrong key: this data was encrypted under a different key');
  }
  try {
    return new Uint8Array(
      await subtle().decrypt({ name: 'AES-GCM', iv: env.nonce, additionalData: aad }, key, env.ciphertext),
    );
  } catch (e) {
    throw new OneshareError('decrypt', 'decryption failed: the data was altered or corrupted', { cause: e });
  }
}

/** Seals an envelope with a non-extractable AES-GCM key. */
export async function sealEnvelope(key, commitment, aad, plaintext) {
  const nonce = randomBytes(12);
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, plaintext));
  return core().envelopeBuild(commitment, nonce, ct);
}

/** Encrypts one STREAM segment. */
export async function sealSegment(key, nonce, plaintext) {
  return new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce }, key, plaintext));
}

/** Decrypts one STREAM segment; failure is `decrypt`. */
export async function openSegment(key, nonce, ciphertext) {
  try {
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: nonce }, key, ciphertext));
  } catch (e) {
    throw new OneshareError('decrypt', 'attachment decryption failed: the data was altered or corrupted', { cause: e });
  }
}

export { sameBytes };
