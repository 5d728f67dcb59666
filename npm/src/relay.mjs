// HTTP to the relay: signed requests (PROTOCOL.md §6) and transmission-key
// envelopes (§7). The core builds canonical strings and envelopes; WebCrypto signs.
import { core, OneshareError } from './core.mjs';
import { randomBytes, signText } from './webcrypto.mjs';

const EMPTY = new Uint8Array(0);

/** Turns a non-2xx response into a coded error (`{code, message}` bodies). */
async function relayError(res) {
  let code = `http_${res.status}`;
  let message = `the relay answered ${res.status} ${res.statusText}`.trim();
  try {
    const body = core().parseErrorBody(new Uint8Array(await res.arrayBuffer()));
    code = body.code;
    message = body.message;
  } catch {
    // Not a JSON error body (a proxy answered): keep the HTTP status.
  }
  return new OneshareError(code, message, { status: res.status });
}

/** One relay, with its pinned HPKE key. */
export class Relay {
  /**
   * @param {string} base relay URL without trailing slash
   * @param {{keyId: string, publicKey: Uint8Array}} relayKey pinned key
   * @param {typeof fetch} fetchFn
   * @param {number} clockOffset seconds to add to the local clock
   */
  constructor(base, relayKey, fetchFn, clockOffset) {
    this.base = base;
    this.relayKey = relayKey;
    this.fetch = fetchFn;
    this.clockOffset = clockOffset;
  }

  /** Fetches and pins the relay key; measures clock skew from the `Date` header. */
  static async connect(base, fetchFn = globalThis.fetch.bind(globalThis)) {
    const url = base.replace(/\/+$/, '');
    let res;
    try {
      res = await fetchFn(`${url}/v1/relay-key`, { headers: { accept: 'application/json' } });
    } catch (e) {
      throw new OneshareError('network', `the relay at ${url} cannot be reached`, { cause: e });
    }
    if (!res.ok) throw await relayError(res);
    const key = core().relayKeyFromResponse(new Uint8Array(await res.arrayBuffer()));
    let offset = 0;
    const date = Date.parse(res.headers.get('date') ?? '');
    if (Number.isFinite(date)) {
      const skew = Math.round((date - Date.now()) / 1000);
      if (Math.abs(skew) > 30) offset = skew;
    }
    return new Relay(url, key, fetchFn, offset);
  }

  now() {
    return Math.floor(Date.now() / 1000) + this.clockOffset;
  }

  /**
   * Sends one request.
   * @param {object} o
   * @param {string} o.method
   * @param {string} o.path path and query, exactly as signed
   * @param {Uint8Array} [o.body] plaintext body
   * @param {{id: string, key: CryptoKey}} [o.signer] signer header value and private key
   * @param {boolean} [o.encryptBody] seal the body under a transmission key
   * @param {boolean} [o.encryptedResponse] the answer comes under the transmission key
   * @param {string} [o.contentType]
   * @param {'bytes' | 'response'} [o.as]
   * @param {AbortSignal} [o.signal]
   * @param {Record<string, string>} [o.headers]
   */
  async request(o) {
    const c = core();
    const nonce = randomBytes(16);
    const needsKey = o.encryptBody || o.encryptedResponse;
    const t = needsKey ? new c.Transmission(this.relayKey.publicKey) : null;
    try {
      let body = o.body ?? EMPTY;
      const headers = { ...(o.headers ?? {}) };
      if (t) {
        headers['oneshare-transmission-key'] = t.header;
        if (o.encryptBody) body = t.sealRequest(nonce, body);
      }
      if (o.signer) {
        const ts = this.now();
        const text = c.canonical(o.method, o.path, body, t ? t.header : undefined, o.signer.id, ts, nonce);
        const signature = await signText(o.signer.key, text);
        Object.assign(headers, c.signatureHeaders(o.signer.id, ts, nonce, signature));
      }
      const hasBody = body.length > 0;
      if (hasBody) {
        headers['content-type'] = o.encryptBody ? 'application/octet-stream' : (o.contentType ?? 'application/json');
      }
      let res;
      try {
        res = await this.fetch(this.base + o.path, {
          method: o.method,
          headers,
          // Blob bodies upload several times faster than typed arrays in Chromium.
          body: hasBody ? new Blob([body]) : undefined,
          signal: o.signal,
          cache: 'no-store',
        });
      } catch (e) {
        if (e?.name === 'AbortError') throw e;
        throw new OneshareError('network', 'the relay cannot be reached', { cause: e });
      }
      if (!res.ok) throw await relayError(res);
      if (o.as === 'response') return res;
      const bytes = new Uint8Array(await res.arrayBuffer());
      return t && o.encryptedResponse ? t.openResponse(nonce, bytes) : bytes;
    } finally {
      t?.free();
    }
  }
}
