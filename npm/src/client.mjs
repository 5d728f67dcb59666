// The public client: recipient (open, record, attachment, sharesOnDevice, forget)
// and sender (create, listShares, update, revoke, events).
import { core, OneshareError } from './core.mjs';
import { Relay } from './relay.mjs';
import { DEVICES, KeyStore, OWNER } from './store.mjs';
import { decryptStream, encryptParts } from './stream.mjs';
import { generateSigningKey, importAesKey, openEnvelope, randomBytes, sealEnvelope } from './webcrypto.mjs';

const json = (value) => new TextEncoder().encode(JSON.stringify(value));
const enc = encodeURIComponent;
/** Relay answers that mean the share is gone for good: drop its local keys. */
const GONE = new Set(['expired', 'revoked', 'self_destructed', 'not_found']);

export class Oneshare {
  #relay;
  #storeName;
  #store = null;
  #linkBase;

  /** @private use `Oneshare.connect` */
  constructor(relay, options) {
    this.#relay = relay;
    this.#storeName = options.storeName ?? 'oneshare-sdk';
    this.#linkBase = (options.linkBase ?? relay.base).replace(/\/+$/, '');
  }

  /**
   * Connects to a relay: fetches and pins its HPKE key for this client's life.
   * @param {string} relayUrl e.g. `https://share.example`
   * @param {{storeName?: string, linkBase?: string, fetch?: typeof fetch}} [options]
   */
  static async connect(relayUrl, options = {}) {
    core(); // throws not_initialized when init() was skipped
    const relay = await Relay.connect(relayUrl, options.fetch);
    return new Oneshare(relay, options);
  }

  /** The relay URL. */
  get relayUrl() {
    return this.#relay.base;
  }

  /** The pinned relay key id. */
  get relayKeyId() {
    return this.#relay.relayKey.keyId;
  }

  async #db() {
    if (!this.#store) this.#store = await KeyStore.open(this.#storeName);
    return this.#store;
  }

  /** Closes the IndexedDB connection (reopened on demand). */
  close() {
    this.#store?.close();
    this.#store = null;
  }

  // ---- recipient ------------------------------------------------------------

  /**
   * Opens a link on this device: two-phase bind (bind → decrypt → store keys →
   * signed confirm). Retry-safe: after a lost answer, calling `open` again on the
   * same device re-binds with the same device key. Once bound, `open` with the
   * same link just fetches the current record.
   * @param {string} link
   */
  async open(link) {
    const c = core();
    const secrets = c.ShareSecrets.fromLink(link);
    try {
      const shareId = secrets.shareId;
      const db = await this.#db();
      let entry = await db.get(DEVICES, shareId);
      if (entry?.confirmed) return await this.record(shareId);
      if (!entry) {
        const device = await generateSigningKey();
        entry = {
          shareId,
          relay: this.#relay.base,
          privateKey: device.privateKey,
          publicKey: device.publicKey,
          confirmed: false,
          createdAt: Date.now(),
        };
        // Stored before bind, so a retry after a lost answer uses the same key.
        await db.put(DEVICES, entry);
      }
      const signer = { id: c.deviceSigner(shareId), key: entry.privateKey };
      let plain;
      try {
        plain = await this.#relay.request({
          method: 'POST',
          path: `/v1/shares/${enc(shareId)}/bind`,
          body: secrets.bindRequest(entry.publicKey),
          signer,
          encryptBody: true,
          encryptedResponse: true,
        });
      } catch (e) {
        // The relay refused for good (other device, wrong token, ended): the key
        // pair made for this bind is useless. A network failure keeps it for the retry.
        if (e instanceof OneshareError && e.status >= 400 && e.status < 500 && e.status !== 429 && !entry.recordKey) {
          await db.delete(DEVICES, shareId);
        }
        throw e;
      }
      const bind = c.parseBindResponse(plain);
      const raw = secrets.unwrapRecordKey(c.b64decode(bind.wrapped_key));
      const { key, commitment } = await importAesKey(raw, ['decrypt']);
      const record = await this.#decryptRecord(shareId, key, commitment, bind.record);
      entry = { ...entry, recordKey: key, commitment, accessExpiresAt: bind.access_expires_at, selfDestruct: bind.self_destruct };
      await db.put(DEVICES, entry);
      const confirm = c.parseConfirmResponse(
        await this.#relay.request({ method: 'POST', path: `/v1/shares/${enc(shareId)}/confirm`, signer }),
      );
      entry = { ...entry, confirmed: true, accessExpiresAt: confirm.access_expires_at };
      await db.put(DEVICES, entry);
      return {
        shareId,
        version: bind.record.version,
        record,
        attachments: bind.attachments,
        accessExpiresAt: confirm.access_expires_at,
        selfDestruct: bind.self_destruct,
      };
    } finally {
      secrets.free();
    }
  }

  async #decryptRecord(shareId, key, commitment, rc) {
    const c = core();
    const plain = await openEnvelope(key, commitment, c.recordAad(shareId, rc.version), c.b64decode(rc.ciphertext));
    try {
      return c.recordParse(plain);
    } finally {
      plain.fill(0);
    }
  }

  async #device(shareId) {
    const entry = await (await this.#db()).get(DEVICES, shareId);
    if (!entry?.recordKey) {
      throw new OneshareError('not_on_device', 'this share is not open on this device: open its link first');
    }
    return entry;
  }

  async #deviceRequest(entry, o) {
    try {
      return await this.#relay.request({ ...o, signer: { id: core().deviceSigner(entry.shareId), key: entry.privateKey } });
    } catch (e) {
      // Expired, revoked or self-destructed: delete the keys here too (§9.4).
      if (e instanceof OneshareError && (e.status === 410 || GONE.has(e.code))) await this.forget(entry.shareId);
      throw e;
    }
  }

  /**
   * The current record of a share bound on this device (signed fetch).
   * @param {string} shareId
   */
  async record(shareId) {
    const c = core();
    const entry = await this.#device(shareId);
    const resp = c.parseRecordResponse(
      await this.#deviceRequest(entry, {
        method: 'GET',
        path: `/v1/shares/${enc(shareId)}/record`,
        encryptedResponse: true,
      }),
    );
    const record = await this.#decryptRecord(shareId, entry.recordKey, entry.commitment, resp.record);
    return {
      shareId,
      version: resp.record.version,
      record,
      attachments: resp.attachments,
      accessExpiresAt: resp.access_expires_at,
      selfDestruct: entry.selfDestruct ?? false,
    };
  }

  /**
   * Streams an attachment, decrypted, as a `ReadableStream<Uint8Array>`.
   * @param {string} shareId
   * @param {string} id attachment id from the record
   * @param {{onProgress?: (p: {loaded: number, total: number}) => void, signal?: AbortSignal}} [options]
   */
  async attachment(shareId, id, options = {}) {
    const c = core();
    const { record } = await this.record(shareId);
    const meta = (record.attachments ?? []).find((a) => a.id === id);
    if (!meta) throw new OneshareError('not_found', 'no attachment with this id in the record');
    const entry = await this.#device(shareId);
    const res = await this.#deviceRequest(entry, {
      method: 'GET',
      path: `/v1/shares/${enc(shareId)}/attachments/${enc(id)}`,
      as: 'response',
      signal: options.signal,
    });
    if (!res.body) throw new OneshareError('truncated', 'the relay sent no attachment data');
    return decryptStream(res.body, c.b64decode(meta.key), meta.size, options.onProgress);
  }

  /** Shares bound (or being bound) on this device. */
  async sharesOnDevice() {
    const all = await (await this.#db()).all(DEVICES);
    return all.map((e) => ({
      shareId: e.shareId,
      relay: e.relay,
      confirmed: !!e.confirmed,
      accessExpiresAt: e.accessExpiresAt ?? null,
      selfDestruct: !!e.selfDestruct,
    }));
  }

  /**
   * Deletes a share's keys from this device (the record cannot be read here again).
   * @param {string} shareId
   */
  async forget(shareId) {
    await (await this.#db()).delete(DEVICES, shareId);
  }

  // ---- sender ---------------------------------------------------------------

  /** The owner identity of this browser, created on first use. */
  async #owner() {
    const db = await this.#db();
    let owner = await db.get(OWNER, 'default');
    if (!owner) {
      const signing = await generateSigningKey();
      const { key, commitment } = await importAesKey(core().randomKey());
      owner = { id: 'default', privateKey: signing.privateKey, publicKey: signing.publicKey, ownerKey: key, ownerCommitment: commitment };
      await db.put(OWNER, owner);
    }
    return owner;
  }

  /** The owner public key of this browser (base64url), creating it if needed. */
  async ownerPublicKey() {
    return core().b64encode((await this.#owner()).publicKey);
  }

  #ownerRequest(owner, o) {
    return this.#relay.request({ ...o, signer: { id: core().ownerSigner(owner.publicKey), key: owner.privateKey } });
  }

  /**
   * Creates a share and uploads its attachments.
   * @param {object} o see index.d.ts `CreateOptions`
   */
  async create(o) {
    const c = core();
    const owner = await this.#owner();
    const expiresIn = typeof o.expiresIn === 'number' ? o.expiresIn : c.parseDuration(o.expiresIn ?? '1h');
    const files = (o.attachments ?? []).map((a) => normalizeAttachment(a));
    const secrets = c.ShareSecrets.generate();
    const recordKey = c.randomKey();
    try {
      const shareId = secrets.shareId;
      const decls = [];
      const described = [];
      for (const f of files) {
        f.id = c.b64encode(randomBytes(16));
        f.key = c.randomKey();
        // One header (random nonce prefix) per file, reused if an upload resumes.
        f.header = c.streamHeader(f.key);
        described.push({ id: f.id, name: f.name, mime: f.mime, size: f.size, key: c.b64encode(f.key) });
        decls.push({ id: f.id, size: c.ciphertextLen(f.size) });
      }
      const record = { ...o.record, attachments: [...(o.record?.attachments ?? []), ...described] };
      const sealed = c.recordSeal(recordKey, shareId, 1, JSON.stringify(record));
      const wrapped = secrets.wrapRecordKey(recordKey);
      const ownerData = await sealEnvelope(
        owner.ownerKey,
        owner.ownerCommitment,
        c.ownerAad(shareId),
        c.ownerDataJson(o.label ?? '', recordKey),
      );
      const body = c.createShareRequest(secrets, wrapped, sealed, ownerData, expiresIn, !!o.selfDestruct, decls);
      const created = c.parseCreateResponse(
        await this.#ownerRequest(owner, { method: 'POST', path: '/v1/shares', body, encryptBody: true }),
      );
      const total = files.reduce((n, f) => n + f.size, 0);
      let before = 0;
      for (const f of files) {
        await this.#upload(owner, shareId, f, (done) => o.onProgress?.({ loaded: before + done, total, attachment: f.name }));
        before += f.size;
      }
      if (files.length) o.onProgress?.({ loaded: total, total });
      return { link: secrets.link(this.#linkBase), shareId, expiresAt: created.expires_at };
    } finally {
      recordKey.fill(0);
      for (const f of files) f.key?.fill(0);
      secrets.free();
    }
  }

  async #upload(owner, shareId, file, progress) {
    const c = core();
    const base = `/v1/shares/${enc(shareId)}/attachments/${enc(file.id)}`;
    const status = async () =>
      c.parseUploadStatus(await this.#ownerRequest(owner, { method: 'GET', path: `${base}/upload` }));
    let st = await status();
    for (let attempt = 0; !st.complete; attempt++) {
      if (attempt > 3) {
        throw new OneshareError('upload_incomplete', 'the relay did not accept the whole attachment; try again');
      }
      try {
        // encryptParts wipes the key copy it is given; ours stays for a resume.
        const parts = encryptParts(file.source, file.size, file.key.slice(), file.header, st.part_size, st.next_part);
        for await (const part of parts) {
          st = c.parseUploadStatus(
            await this.#ownerRequest(owner, {
              method: 'PUT',
              path: `${base}/parts/${part.index}`,
              body: part.bytes,
              contentType: 'application/octet-stream',
            }),
          );
          progress(part.plaintextDone);
        }
        st = c.parseUploadStatus(await this.#ownerRequest(owner, { method: 'POST', path: `${base}/finalize` }));
      } catch (e) {
        // Network trouble: ask the relay where to resume, a few times.
        if (!(e instanceof OneshareError) || e.code !== 'network') throw e;
        st = await status();
      }
    }
  }

  async #summaries(owner) {
    const c = core();
    return c.parseShareList(await this.#ownerRequest(owner, { method: 'GET', path: '/v1/shares' })).shares;
  }

  async #ownerData(owner, s) {
    const c = core();
    if (!s.owner_data) return null;
    const plain = await openEnvelope(owner.ownerKey, owner.ownerCommitment, c.ownerAad(s.share_id), c.b64decode(s.owner_data));
    try {
      return c.ownerDataParse(plain);
    } finally {
      plain.fill(0);
    }
  }

  /** The shares this browser's owner identity created, with their decrypted labels. */
  async listShares() {
    const owner = await this.#owner();
    const out = [];
    for (const s of await this.#summaries(owner)) {
      let label = null;
      try {
        const data = await this.#ownerData(owner, s);
        data?.recordKey.fill(0);
        label = data?.label ?? null;
      } catch {
        label = null; // sealed by another owner key
      }
      out.push({
        shareId: s.share_id,
        state: s.state,
        label,
        createdAt: s.created_at,
        expiresAt: s.expires_at,
        boundAt: s.bound_at ?? null,
        recordVersion: s.record_version,
        selfDestruct: s.self_destruct,
      });
    }
    return out;
  }

  /**
   * Publishes a new version of a share's record (same record key).
   * @param {string} shareId
   * @param {object} record the complete new record (include `attachments` to keep them)
   */
  async update(shareId, record) {
    const c = core();
    const owner = await this.#owner();
    const s = (await this.#summaries(owner)).find((x) => x.share_id === shareId);
    if (!s) throw new OneshareError('not_found', 'no share with this id belongs to this owner');
    const data = await this.#ownerData(owner, s);
    if (!data) throw new OneshareError('not_found', 'the relay has no owner data for this share');
    try {
      const version = s.record_version + 1;
      const sealed = c.recordSeal(data.recordKey, shareId, version, JSON.stringify(record));
      await this.#ownerRequest(owner, {
        method: 'PUT',
        path: `/v1/shares/${enc(shareId)}/record`,
        body: c.updateRecordRequest(version, sealed),
        encryptBody: true,
      });
      return { shareId, version };
    } finally {
      data.recordKey.fill(0);
    }
  }

  /**
   * Revokes a share now ("Delete Now").
   * @param {string} shareId
   */
  async revoke(shareId) {
    const owner = await this.#owner();
    await this.#ownerRequest(owner, { method: 'DELETE', path: `/v1/shares/${enc(shareId)}` });
  }

  /**
   * The owner's events as an async iterator over the relay's SSE stream.
   * Break out of the loop (or abort `signal`) to close it.
   * @param {{signal?: AbortSignal, lastEventId?: number}} [options]
   */
  async *events(options = {}) {
    const c = core();
    const owner = await this.#owner();
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    options.signal?.addEventListener('abort', onAbort);
    const headers = { accept: 'text/event-stream' };
    if (options.lastEventId !== undefined) headers['last-event-id'] = String(options.lastEventId);
    const res = await this.#ownerRequest(owner, { method: 'GET', path: '/v1/events', as: 'response', signal: abort.signal, headers });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value.replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).replace(/^ /, ''))
            .join('\n');
          if (!data) continue; // comments and keep-alives
          const ev = c.parseEvent(new TextEncoder().encode(data));
          yield { id: ev.id, shareId: ev.share_id, kind: ev.kind, at: ev.at, detail: ev.detail ?? null };
        }
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      abort.abort();
      reader.cancel().catch(() => {});
    }
  }
}

function normalizeAttachment(a) {
  if (a instanceof Blob) {
    return { source: a, size: a.size, name: a.name ?? 'attachment', mime: a.type || 'application/octet-stream' };
  }
  const data = a.data;
  if (data instanceof Blob) {
    return { source: data, size: data.size, name: a.name, mime: a.type || data.type || 'application/octet-stream' };
  }
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    return { source: bytes, size: bytes.length, name: a.name, mime: a.type || 'application/octet-stream' };
  }
  if (data instanceof ReadableStream) {
    if (!Number.isSafeInteger(a.size) || a.size < 0) {
      throw new OneshareError('length', 'an attachment given as a stream needs its exact `size`');
    }
    return { source: data, size: a.size, name: a.name, mime: a.type || 'application/octet-stream' };
  }
  throw new OneshareError('json', 'an attachment must be a Blob/File or {name, data: Blob | Uint8Array | ReadableStream, size}');
}
