// The wasm engine and the error type. Everything protocol-shaped (byte layouts,
// AADs, canonical strings, JSON bodies) comes from the Rust core through here.
import initWasm, * as wasm from '../dist/oneshare_sdk.js';

/** An error with a stable snake_case `code` (see README "Error codes"). */
export class OneshareError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{status?: number, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'OneshareError';
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
  }
}

let ready = null;
let loaded = false;

/**
 * Loads the WebAssembly module. Must be awaited once before anything else;
 * every other call throws `not_initialized` until it has finished.
 * @param {RequestInfo | URL | Response | BufferSource | WebAssembly.Module} [wasmSource]
 */
export async function init(wasmSource) {
  if (!ready) {
    ready = initWasm(wasmSource === undefined ? undefined : { module_or_path: wasmSource })
      .then(() => {
        loaded = true;
      })
      .catch((e) => {
        ready = null;
        throw new OneshareError('wasm_load', `the oneshare WebAssembly module could not be loaded: ${e?.message ?? e}`, { cause: e });
      });
  }
  return ready;
}

/** The wasm exports; throws `not_initialized` when `init()` was skipped. */
export function core() {
  if (!loaded) {
    throw new OneshareError(
      'not_initialized',
      "@oneshare/sdk is not initialized: call `await init()` (import { init } from '@oneshare/sdk') before using it",
    );
  }
  return wasm;
}

/** Whether `init()` has completed. */
export function isInitialized() {
  return loaded;
}
