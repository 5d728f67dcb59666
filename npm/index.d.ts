// Declarations of @oneshare/sdk. The client's classes, functions and shapes are
// generated from the Rust crate (wasm-bindgen, dist/oneshare_web.d.ts); only the
// glue's own exports are written here. Checked with `tsc --noEmit`.
import type { ErrorCode } from './dist/oneshare_web.js';

export type * from './dist/oneshare_web.js';
export { Oneshare, parseLink, parseDuration, formatDuration, decryptAttachment } from './dist/oneshare_web.js';

/** An error with a stable `code`; every error the SDK throws is one. */
export class OneshareError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status, for errors the relay answered. */
  readonly status?: number;
  /** With `wrong_code` and `wrong_passphrase`: attempts left before the share locks. */
  readonly attemptsLeft?: number;
  constructor(code: ErrorCode, message: string, extra?: { status?: number; cause?: unknown });
}

/** Loads the WebAssembly module; await it once before anything else. */
export function init(wasmSource?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module): Promise<void>;

/** Whether `init()` has completed. */
export function isInitialized(): boolean;
