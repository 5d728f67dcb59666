// A tiny app built by Vite against the packed @oneshare/sdk tarball. Playwright
// drives it through `window.app`, the way an embedding web app would call the SDK.
import { decryptAttachment, init, Oneshare, OneshareError, parseLink } from '@oneshare/sdk';
import * as testing from '@oneshare/sdk/testing';
import { benchDecrypt, benchEncrypt } from './bench.js';
import { bufferEdgeCases, envelopeCase, openCodeCase, passphraseCase, streamCase } from './vectors.js';

const status = document.getElementById('status');

async function sha256(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Deterministic pseudo-random bytes (getRandomValues caps at 64 KiB per call). */
function randomBlob(size) {
  const parts = [];
  for (let off = 0; off < size; off += 65536) {
    parts.push(crypto.getRandomValues(new Uint8Array(Math.min(65536, size - off))));
  }
  return new Blob(parts, { type: 'application/octet-stream' });
}

function coded(e) {
  return { error: true, code: e?.code ?? null, status: e?.status, attemptsLeft: e?.attemptsLeft, name: e?.name ?? null, message: String(e?.message ?? e), isOneshare: e instanceof OneshareError };
}

async function guard(fn) {
  try {
    return await fn();
  } catch (e) {
    return coded(e);
  }
}

let client = null;
/** URLs of the requests the client sent (its fetch), for "refused before any request". */
const sent = [];
const counting = (url, init) => (sent.push(String(url)), fetch(url, init));
const connect = async () => (client ??= await Oneshare.connect(location.origin, { fetch: counting }));

window.app = {
  /** Calls before init must fail loudly. */
  beforeInit: () => guard(async () => parseLink('https://x/s#abc')),
  async init() {
    await init();
    status.textContent = 'ready';
    return true;
  },
  create: (o) =>
    guard(async () => {
      const c = await connect();
      const file = o.attachmentSize === undefined ? null : randomBlob(o.attachmentSize);
      const progress = [];
      const attachments = [];
      if (file && o.asStream) attachments.push({ name: 'data.bin', type: 'application/octet-stream', data: file.stream(), size: file.size });
      else if (file) attachments.push(new File([file], 'data.bin', { type: 'application/octet-stream' }));
      if (o.alsoEmpty) attachments.push({ name: 'empty.txt', type: 'text/plain', data: new Uint8Array(0) });
      const res = await c.create({
        record: o.record,
        attachments,
        expiresIn: o.expiresIn ?? '1h',
        selfDestruct: !!o.selfDestruct,
        label: o.label ?? '',
        requireCode: !!o.requireCode,
        passphrase: o.passphrase,
        onProgress: (p) => progress.push(p.loaded),
      });
      return { ...res, sha256: file ? await sha256(file) : null, progress };
    }),
  // The open code, as a user would type it when the relay asks for it (this
  // page calls open() without a user gesture, which looks automated).
  open: (link, code, passphrase) =>
    guard(async () => {
      const c = await connect();
      const t0 = performance.now();
      const r = await c.open(link, { code, passphrase });
      return { ...r, ms: performance.now() - t0 };
    }),
  record: (shareId) => guard(async () => (await connect()).record(shareId)),
  download: (shareId, id) =>
    guard(async () => {
      const c = await connect();
      const seen = [];
      const stream = await c.attachment(shareId, id, { onProgress: (p) => seen.push(p.loaded) });
      const blob = await new Response(stream).blob();
      return { size: blob.size, sha256: await sha256(blob), progressEvents: seen.length, lastProgress: seen.at(-1) };
    }),
  sharesOnDevice: () => guard(async () => (await connect()).sharesOnDevice()),
  forget: (shareId) => guard(async () => (await connect()).forget(shareId)),
  listShares: () => guard(async () => (await connect()).listShares()),
  update: (shareId, record) => guard(async () => (await connect()).update(shareId, record)),
  revoke: (shareId) => guard(async () => (await connect()).revoke(shareId)),
  requestTransfer: (link) => guard(async () => (await connect()).requestTransfer(link)),
  transferStatus: (link) => guard(async () => (await connect()).transferStatus(link)),
  pendingTransfers: () => guard(async () => (await connect()).pendingTransfers()),
  approveTransfer: (shareId, code) => guard(async () => (await connect()).approveTransfer(shareId, code)),
  denyTransfer: (shareId) => guard(async () => (await connect()).denyTransfer(shareId)),
  /** Collects events until `count` arrived (or `ms` passed). */
  events: (count, ms) =>
    guard(async () => {
      const c = await connect();
      const out = [];
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), ms);
      try {
        for await (const ev of c.events({ signal: abort.signal, lastEventId: 0 })) {
          out.push(ev);
          if (out.length >= count) break;
        }
      } catch (e) {
        if (e?.name !== 'AbortError') throw e;
      } finally {
        clearTimeout(timer);
      }
      return out;
    }),
  /** Collects events until one of `shareId` whose detail contains `text` arrived (or `ms` passed). */
  eventsUntil: (shareId, text, ms) =>
    guard(async () => {
      const c = await connect();
      const out = [];
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), ms);
      try {
        for await (const ev of c.events({ signal: abort.signal, lastEventId: 0 })) {
          if (ev.shareId !== shareId) continue;
          out.push(ev);
          if (ev.detail?.includes(text)) break;
        }
      } catch (e) {
        if (e?.name !== 'AbortError') throw e;
      } finally {
        clearTimeout(timer);
      }
      return out;
    }),
  /** The device key and record key must be non-extractable CryptoKeys. */
  keysAreLocked: () =>
    guard(
      () =>
        new Promise((resolve, reject) => {
          const req = indexedDB.open('oneshare-sdk');
          req.onerror = () => reject(req.error);
          req.onsuccess = async () => {
            const tx = req.result.transaction(['devices', 'owner'], 'readonly');
            const devices = await new Promise((ok) => (tx.objectStore('devices').getAll().onsuccess = (e) => ok(e.target.result)));
            const owners = await new Promise((ok) => (tx.objectStore('owner').getAll().onsuccess = (e) => ok(e.target.result)));
            req.result.close();
            const keys = [
              ...devices.flatMap((d) => [d.privateKey, d.recordKey]),
              ...owners.flatMap((o) => [o.privateKey, o.ownerKey]),
            ].filter(Boolean);
            const results = [];
            for (const k of keys) {
              let exported = false;
              for (const fmt of ['raw', 'pkcs8', 'jwk']) {
                try {
                  await crypto.subtle.exportKey(fmt, k);
                  exported = true;
                } catch {
                  // expected: InvalidAccessError / NotSupportedError
                }
              }
              results.push({ type: k.type, algorithm: k.algorithm.name, extractable: k.extractable, exported });
            }
            resolve(results);
          };
        }),
    ),
  benchDecrypt: (mib) => guard(() => benchDecrypt(mib, { testing, decryptAttachment })),
  benchEncrypt: (mib) => guard(() => benchEncrypt(mib, { testing, decryptAttachment })),
  /** One case of sdk/vectors/stream.json or envelope.json through the packaged SDK. */
  streamCase: (c, source, bytes) => streamCase(c, source, bytes, { testing, decryptAttachment }),
  envelopeCase: (c) => envelopeCase(c, { testing }),
  bufferEdgeCases: (bytes) => bufferEdgeCases(bytes, { testing, decryptAttachment }),
  /** Milliseconds of `runs` passphrase derivations (Argon2id at the protocol's parameters) in the package's
   * on-demand module, each in a fresh worker as open() runs it. */
  argon2Ms: async (runs) => {
    const token = crypto.getRandomValues(new Uint8Array(32));
    const out = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await testing.passphraseDerive(token, `bench passphrase ${i}`);
      out.push(performance.now() - t0);
    }
    return out;
  },
  /** One case of sdk/vectors/open_code.json or passphrase.json; `requests` counts what open() sent. */
  openCodeCase: async (c) => openCodeCase(c, { testing, client: await connect(), requests: sent }),
  passphraseCase: async (c) => passphraseCase(c, { testing, client: await connect(), requests: sent }),
};

status.textContent = 'loaded';
