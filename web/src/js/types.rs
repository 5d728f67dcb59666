//! TypeScript declarations of the shapes the JavaScript API takes and returns,
//! emitted by wasm-bindgen into the package's `.d.ts` next to the generated
//! class and function signatures (which name these types).

use wasm_bindgen::prelude::*;

/// Every code an `OneshareError` can carry; `web/src/error.rs` tests that each
/// code the client produces is listed.
#[wasm_bindgen(typescript_custom_section)]
const ERROR_CODES: &str = r#"
/** Every `code` an OneshareError can carry. */
export type ErrorCode =
  // the protocol core
  | 'encoding' | 'invalid_link' | 'length' | 'malformed' | 'unsupported_version'
  | 'wrong_key' | 'decrypt' | 'truncated' | 'trailing_data' | 'counter_overflow'
  | 'json' | 'invalid_key' | 'bad_signature' | 'invalid_header' | 'stale_timestamp'
  | 'hpke' | 'duration' | 'random' | 'invalid_code' | 'passphrase'
  // the relay (JSON error bodies), and http_STATUS when a proxy answered
  | 'not_found' | 'method_not_allowed' | 'expired' | 'revoked' | 'self_destructed'
  | 'bad_token' | 'already_bound' | 'already_confirmed' | 'moved' | 'transfer_pending' | 'conflict' | 'replayed' | 'forbidden'
  | 'too_large' | 'quota' | 'storage_full' | 'bad_request' | 'range_not_satisfiable'
  | 'rate_limited' | 'timeout' | 'internal' | `http_${number}`
  // the relay's second-factor answers (protocol v2): ask for the code or the
  // passphrase and open again; `attemptsLeft` comes with the wrong_* codes
  | 'code_required' | 'passphrase_required' | 'wrong_code' | 'wrong_passphrase' | 'locked'
  // the browser client
  | 'network' | 'aborted' | 'webcrypto' | 'insecure_context' | 'storage_unavailable'
  | 'not_on_device' | 'other_relay' | 'attachment_uploading' | 'no_such_attachment'
  | 'upload_incomplete' | 'argument' | 'unsupported' | 'code_mismatch' | 'passphrase_module'
  // loading the package
  | 'not_initialized' | 'wasm_load';
"#;

#[wasm_bindgen(typescript_custom_section)]
const SHAPES: &str = r#"
export type FieldType = 'login' | 'password' | 'url' | 'note' | 'totp' | 'custom';

/** One typed field; `custom` fields need a `label`. */
export interface Field { type: FieldType; label?: string; value: string }

/** An attachment as described in the record (its `key` is secret). */
export interface AttachmentMeta { id: string; name: string; mime: string; size: number; key: string }

/** A record to share. */
export interface ShareRecord { title: string; fields?: Field[]; attachments?: AttachmentMeta[] }

/** A decrypted record. */
export interface OpenedRecord extends ShareRecord { fields: Field[] }

/** Bytes done so far; `attachment` names the file being uploaded. */
export interface Progress { loaded: number; total: number; attachment?: string }

/** A decrypted record with what the relay said about it. */
export interface RecordResult {
  shareId: string;
  version: number;
  record: OpenedRecord;
  /** Attachments the relay has completely: ids and ciphertext sizes. */
  attachments: { id: string; size: number }[];
  accessExpiresAt: number;
  selfDestruct: boolean;
}

export type ShareState = 'unbound' | 'binding' | 'bound' | 'expired' | 'revoked' | 'self_destructed';

/** What a link leads to, read without consuming it. */
export interface ShareStatus { shareId: string; state: ShareState; expiresAt: number; onThisDevice: boolean }

export type AttachmentInput =
  | Blob
  | { name: string; type?: string; data: Blob | Uint8Array | ArrayBuffer }
  | { name: string; type?: string; data: ReadableStream<Uint8Array>; size: number };

export interface CreateOptions {
  record: ShareRecord;
  attachments?: AttachmentInput[];
  /** Seconds, or a duration such as `30m`, `1h`, `7d` (default `1h`). */
  expiresIn?: string | number;
  selfDestruct?: boolean;
  label?: string;
  onProgress?: (p: Progress) => void;
  /** Aborts the uploads (`aborted`). */
  signal?: AbortSignal;
  /** Ask for the open code at every open, not only when an open looks automated. */
  requireCode?: boolean;
  /** A passphrase the recipient must also type (pass it on separately); stretched with Argon2id. */
  passphrase?: string;
}

export interface CreateResult {
  link: string;
  shareId: string;
  expiresAt: number;
  /** The open code (`Y6HQ-Q210`): pass it on separately from the link; the recipient types it when asked. */
  openCode: string;
}

/** Second factors for `open`, when the relay asked for them. */
export interface OpenOptions {
  /** The open code as typed or pasted (case, spaces and dashes do not matter). */
  code?: string;
  /** The share's passphrase (NFC-normalized, otherwise exact). */
  passphrase?: string;
  /** Milliseconds from your Open control appearing to its press (default: since first paint). */
  pressAfterMs?: number;
}

export interface ShareSummary {
  shareId: string;
  state: ShareState;
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
  confirmed: boolean;
  accessExpiresAt: number | null;
  selfDestruct: boolean;
}

export type EventKind =
  | 'created' | 'bound' | 'confirmed' | 'refused_device' | 'viewed'
  | 'updated' | 'revoked' | 'expired' | 'self_destructed'
  | 'transfer_requested' | 'transfer_approved' | 'transfer_denied' | 'transfer_expired';

/** Where this device's request to move a share here stands (PROTOCOL.md §12.2). */
export type TransferProgress =
  /** Show `comparisonCode` ("123 456"): the sender approves only if theirs matches. */
  | { state: 'pending'; comparisonCode: string; expiresAt: number }
  /** Moved here: the record, readable on this device from now on. */
  | { state: 'approved'; result: RecordResult }
  | { state: 'denied' }
  | { state: 'expired' };

/** A request to move one of this owner's shares to another device. */
export interface PendingTransfer {
  shareId: string;
  label: string | null;
  /** The code the requesting device must show ("123 456"). */
  comparisonCode: string;
  requestedAt: number;
  expiresAt: number;
}

/** `deviceFingerprint`: the device behind `bound`, `confirmed`, `viewed` and `refused_device` (PROTOCOL.md §9.6), e.g. `HXTN-GGVC-GTF5-Z377`. */
export interface ShareEvent { id: number; shareId: string; kind: EventKind; at: number; detail: string | null; deviceFingerprint: string | null }

export interface EventOptions { signal?: AbortSignal; lastEventId?: number }

export interface AttachmentOptions { onProgress?: (p: Progress) => void; signal?: AbortSignal }

export interface ConnectOptions {
  /** IndexedDB database for keys (default `oneshare-sdk`). */
  storeName?: string;
  /** Where links point (`{linkBase}/s#T`); default the relay URL. */
  linkBase?: string;
  /** A fetch to send requests with (default the global one). */
  fetch?: typeof fetch;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `ConnectOptions` above.
    #[wasm_bindgen(typescript_type = "ConnectOptions")]
    pub type ConnectOptions;
    /// `AttachmentOptions` above.
    #[wasm_bindgen(typescript_type = "AttachmentOptions")]
    pub type AttachmentOptions;
    /// `EventOptions` above.
    #[wasm_bindgen(typescript_type = "EventOptions")]
    pub type EventOptions;
    /// `OpenOptions` above.
    #[wasm_bindgen(typescript_type = "OpenOptions")]
    pub type OpenOptions;
}
