// @oneshare/sdk: end-to-end-encrypted one-time shares in the browser. The
// client is Rust (crate oneshare-web) compiled to WebAssembly; this file
// re-exports its API, each call refused with `not_initialized` before `init()`.
//
//   import { init, Oneshare } from '@oneshare/sdk';
//   await init();
//   const client = await Oneshare.connect('https://share.example');
import * as wasm from './dist/oneshare_web.js';
import { guarded } from './src/glue.mjs';

export { init, isInitialized, OneshareError } from './src/glue.mjs';

export const { Oneshare } = wasm;
Oneshare.connect = guarded(wasm.Oneshare.connect);
export const parseLink = guarded(wasm.parseLink);
export const parseDuration = guarded(wasm.parseDuration);
export const formatDuration = guarded(wasm.formatDuration);
export const decryptAttachment = guarded(wasm.decryptAttachment);
