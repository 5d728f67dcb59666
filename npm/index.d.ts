// Curated declarations of @oneshare/sdk (checked with `tsc --noEmit`).

/**
 * Every error the SDK throws has a stable snake_case `code` (see README
 * "Error codes"); relay errors also carry the HTTP `status`.
 */
export class OneshareError extends Error {
  readonly code: string;
  readonly status?: number;
  constructor(code: string, message: string, extra?: { status?: number; cause?: unknown });
}

/**
 * Loads the WebAssembly module. Await it once before anything else: every other
 * call throws `not_initialized` until it has finished.
 *
 * @example
 * import { init, Oneshare } from '@oneshare/sdk';
 * await init();
 * const client = await Oneshare.connect('https://share.example');
 */
export function init(wasmSource?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module): Promise<void>;

/** Whether `init()` has completed. */
export function isInitialized(): boolean;

/**
 * Parses a link (`…/s#T`, `…/s%23T`, `…/s%2523T` or a bare token).
 * @throws OneshareError `invalid_link`
 * @example parseLink(location.href).shareId
 */
export function parseLink(link: string): { shareId: string };

/**
 * Parses `30m`, `1h`, `7d`, `2w`, `1h30m` into seconds (60 s … 365 days).
 * @throws OneshareError `duration`
 */
export function parseDuration(text: string): number;

/** Formats seconds as a duration (`5400` → `1h30m`). */
export function formatDuration(seconds: number): string;

/** Field types of a record; `custom` needs a `label`. */
export type FieldType = 'login' | 'password' | 'url' | 'note' | 'totp' | 'custom';

export interface Field {
  type: FieldType;
  label?: string;
  value: string;
}

/** An attachment as described inside the encrypted record. */
export interface AttachmentMeta {
  /** Relay id (16 bytes, base64url). */
  id: string;
  name: string;
  mime: string;
  /** Plaintext size in bytes. */
  size: number;
  /** The file key (base64url). Secret. */
  key: string;
}

/** The plaintext record. */
export interface ShareRecord {
  title: string;
  fields?: Field[];
  attachments?: AttachmentMeta[];
}

/** A record as decrypted from the relay (fields always present). */
export interface OpenedRecord extends ShareRecord {
  fields: Field[];
}

export interface Progress {
  /** Plaintext bytes processed so far. */
  loaded: number;
  /** Plaintext bytes in total. */
  total: number;
  /** While uploading: the file being uploaded. */
  attachment?: string;
}

/** What `open` and `record` return. */
export interface RecordResult {
  shareId: string;
  version: number;
  record: OpenedRecord;
  /** Attachment ids and ciphertext sizes held by the relay. */
  attachments: { id: string; size: number }[];
  /** Unix seconds when access on this device ends. */
  accessExpiresAt: number;
  selfDestruct: boolean;
}

/** An attachment to upload: a `File`/`Blob`, or named data. */
export type AttachmentInput =
  | Blob
  | { name: string; type?: string; data: Blob | Uint8Array | ArrayBuffer }
  | { name: string; type?: string; data: ReadableStream<Uint8Array>; size: number };

export interface CreateOptions {
  record: ShareRecord;
  attachments?: AttachmentInput[];
  /** A duration such as `'1h'` or `'7d'`, or seconds. Default `'1h'`. */
  expiresIn?: string | number;
  /** End access five minutes after the first view (or at expiry, if sooner). */
  selfDestruct?: boolean;
  /** Your label for the share; encrypted, only you can read it. */
  label?: string;
  onProgress?: (p: Progress) => void;
}

export interface CreateResult {
  /** The one-time link. Secret: send it to the recipient only. */
  link: string;
  shareId: string;
  /** Unix seconds when the unused link expires. */
  expiresAt: number;
}

export type ShareState = 'unbound' | 'binding' | 'bound' | 'expired' | 'revoked' | 'self_destructed';

export interface ShareSummary {
  shareId: string;
  state: ShareState;
  /** Your decrypted label, or null when it cannot be read with this browser's owner key. */
  label: string | null;
  createdAt: number;
  expiresAt: number;
  boundAt: number | null;
  recordVersion: number;
  selfDestruct: boolean;
}

export interface DeviceShare {
  shareId: string;
  relay: string;
  /** False between bind and confirm (an interrupted `open`; call it again). */
  confirmed: boolean;
  accessExpiresAt: number | null;
  selfDestruct: boolean;
}

export type EventKind =
  | 'created'
  | 'bound'
  | 'confirmed'
  | 'refused_device'
  | 'viewed'
  | 'updated'
  | 'revoked'
  | 'expired'
  | 'self_destructed';

export interface ShareEvent {
  id: number;
  shareId: string;
  kind: EventKind;
  at: number;
  detail: string | null;
}

export interface ConnectOptions {
  /** IndexedDB database name (default `oneshare-sdk`). */
  storeName?: string;
  /** Base URL of the links `create` returns (default: the relay URL). */
  linkBase?: string;
  fetch?: typeof fetch;
}

/** A client of one relay, with the relay's HPKE key pinned. */
export class Oneshare {
  private constructor();

  /**
   * Fetches and pins the relay key.
   * @example const client = await Oneshare.connect('https://share.example');
   */
  static connect(relayUrl: string, options?: ConnectOptions): Promise<Oneshare>;

  readonly relayUrl: string;
  readonly relayKeyId: string;

  /** Closes the IndexedDB connection (reopened on demand). */
  close(): void;

  /**
   * Opens a link on this device (two-phase bind, retry-safe). The device key and
   * the record key are stored as non-extractable CryptoKeys in IndexedDB.
   * @throws OneshareError `invalid_link`, `already_bound` (opened on another device),
   *   `expired` / `revoked` / `self_destructed`, `storage_unavailable`, …
   * @example const { record } = await client.open(location.href);
   */
  open(link: string): Promise<RecordResult>;

  /** The current record of a share bound on this device (signed fetch). */
  record(shareId: string): Promise<RecordResult>;

  /**
   * Decrypts an attachment as a stream (SubtleCrypto, one segment in memory).
   * @example
   * const stream = await client.attachment(shareId, record.attachments[0].id, { onProgress: p => bar.value = p.loaded / p.total });
   * const blob = await new Response(stream).blob();
   */
  attachment(
    shareId: string,
    id: string,
    options?: { onProgress?: (p: Progress) => void; signal?: AbortSignal },
  ): Promise<ReadableStream<Uint8Array>>;

  /** Shares bound (or being bound) on this device. */
  sharesOnDevice(): Promise<DeviceShare[]>;

  /** Deletes a share's keys from this device. */
  forget(shareId: string): Promise<void>;

  /** This browser's owner public key (base64url); created on first use. */
  ownerPublicKey(): Promise<string>;

  /**
   * Creates a share and uploads its attachments.
   * @example
   * const { link } = await client.create({ record: { title: 'Wi-Fi', fields: [{ type: 'password', value: 'hunter2' }] }, expiresIn: '1h' });
   */
  create(options: CreateOptions): Promise<CreateResult>;

  /** The shares this browser created, with decrypted labels. */
  listShares(): Promise<ShareSummary[]>;

  /** Publishes a new version of the record (pass the complete record). */
  update(shareId: string, record: ShareRecord): Promise<{ shareId: string; version: number }>;

  /** Revokes a share now ("Delete Now"). */
  revoke(shareId: string): Promise<void>;

  /**
   * The owner's events (SSE). Break out of the loop or abort to close.
   * @example for await (const ev of client.events()) console.log(ev.kind, ev.shareId);
   */
  events(options?: { signal?: AbortSignal; lastEventId?: number }): AsyncGenerator<ShareEvent, void, unknown>;
}

/**
 * Decrypts attachment ciphertext (STREAM, PROTOCOL.md §5) obtained some other way
 * (a service worker, a cache) with SubtleCrypto, one batch of segments in memory.
 * `size` is the plaintext size from the record; it fixes where the stream ends, so
 * a cut-off stream fails with `truncated` and appended data with `trailing_data`.
 * The key bytes are wiped after import.
 * @example
 * const meta = record.attachments[0];
 * const plain = await decryptAttachment(response.body, bindings().b64decode(meta.key), meta.size);
 */
export function decryptAttachment(
  ciphertext: ReadableStream<Uint8Array>,
  fileKey: Uint8Array,
  size: number,
  onProgress?: (p: Progress) => void,
): Promise<ReadableStream<Uint8Array>>;

/** Low-level bindings of the Rust core, for tests and advanced clients. */
export function bindings(): Bindings;

/** The wasm exports (byte layouts, AADs, canonical strings, JSON bodies). */
export interface Bindings {
  shareIdFromLink(link: string): string;
  randomKey(): Uint8Array;
  b64encode(bytes: Uint8Array): string;
  b64decode(text: string): Uint8Array;
  commitment(key: Uint8Array): Uint8Array;
  envelopeParse(bytes: Uint8Array): { commitment: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array };
  envelopeBuild(commitment: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  envelopeSeal(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  envelopeOpen(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
  recordAad(shareId: string, version: number): Uint8Array;
  ownerAad(shareId: string): Uint8Array;
  recordCanonical(recordJson: string): Uint8Array;
  recordParse(plaintext: Uint8Array): OpenedRecord;
  recordSeal(key: Uint8Array, shareId: string, version: number, recordJson: string): Uint8Array;
  recordOpen(key: Uint8Array, shareId: string, version: number, sealed: Uint8Array): OpenedRecord;
  ownerDataJson(label: string, recordKey: Uint8Array): Uint8Array;
  ownerDataParse(plaintext: Uint8Array): { label: string; recordKey: Uint8Array };
  ownerDataSeal(ownerKey: Uint8Array, shareId: string, label: string, recordKey: Uint8Array): Uint8Array;
  ownerDataOpen(ownerKey: Uint8Array, shareId: string, sealed: Uint8Array): { label: string; recordKey: Uint8Array };
  deviceSigner(shareId: string): string;
  ownerSigner(publicKey: Uint8Array): string;
  canonical(
    method: string,
    path: string,
    body: Uint8Array,
    transmission: string | undefined,
    signer: string,
    timestamp: number,
    nonce: Uint8Array,
  ): string;
  signatureHeaders(signer: string, timestamp: number, nonce: Uint8Array, signature: Uint8Array): { [header: string]: string };
  verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void;
  relayKeyFromResponse(json: Uint8Array): { keyId: string; publicKey: Uint8Array };
  parseDuration(text: string): number;
  formatDuration(seconds: number): string;
  accessDeadline(createdAt: number, expiresIn: number, selfDestruct: boolean, boundAt?: number): number;
  stateAt(stored: ShareState, createdAt: number, expiresIn: number, selfDestruct: boolean, boundAt: number | undefined, now: number): ShareState;
  streamSegmentSize(): number;
  streamHeaderLen(): number;
  streamHeader(key: Uint8Array, prefix?: Uint8Array): Uint8Array;
  streamParseHeader(bytes: Uint8Array): { commitment: Uint8Array; prefix: Uint8Array };
  segmentNonce(prefix: Uint8Array, counter: number, last: boolean): Uint8Array;
  ciphertextLen(len: number): number;
  plaintextLen(len: number): number;
  streamSeal(key: Uint8Array, plaintext: Uint8Array): Uint8Array;
  streamOpen(key: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}
