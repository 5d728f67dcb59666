// Loading the WebAssembly client, and the error class its errors belong to.
import initWasm from '../dist/oneshare_web.js';

/** An error with a stable `code` (see the `ErrorCode` type). Errors from the
 * WebAssembly client are `Error`s named `OneshareError`; `instanceof` knows them. */
export class OneshareError extends Error {
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'OneshareError';
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
  }

  static [Symbol.hasInstance](e) {
    return e instanceof Error && e.name === 'OneshareError' && typeof e.code === 'string';
  }
}

let ready = null;
let loaded = false;

/**
 * Loads the WebAssembly module. Await it once before anything else; every other
 * call throws `not_initialized` until it has finished.
 * @param {RequestInfo | URL | Response | BufferSource | WebAssembly.Module} [wasmSource]
 */
export function init(wasmSource) {
  ready ??= initWasm(wasmSource === undefined ? undefined : { module_or_path: wasmSource }).then(
    () => {
      loaded = true;
    },
    (e) => {
      ready = null;
      throw new OneshareError('wasm_load', `the oneshare WebAssembly module could not be loaded: ${e?.message ?? e}`, { cause: e });
    },
  );
  return ready;
}

/** Whether `init()` has completed. */
export function isInitialized() {
  return loaded;
}

/** Wraps a wasm export so a call before `init()` fails with `not_initialized`. */
export function guarded(f) {
  return function (...args) {
    if (!loaded) {
      throw new OneshareError(
        'not_initialized',
        "@oneshare/sdk is not initialized: call `await init()` (import { init } from '@oneshare/sdk') before using it",
      );
    }
    return f.apply(this, args);
  };
}
