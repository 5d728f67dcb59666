// @oneshare/sdk/testing: byte-level helpers for tests and benchmarks (STREAM
// fixtures, the SDK's envelope open path over raw keys, the upload encrypt path
// without the upload, the open code and passphrase derivations). Not for apps.
import * as wasm from './dist/oneshare_web.js';
import { guarded } from './src/glue.mjs';

export { init } from './src/glue.mjs';

export const randomKey = guarded(wasm.randomKey);
export const streamHeader = guarded(wasm.streamHeader);
export const streamParseHeader = guarded(wasm.streamParseHeader);
export const segmentNonce = guarded(wasm.segmentNonce);
export const streamSeal = guarded(wasm.streamSeal);
export const openEnvelope = guarded(wasm.openEnvelope);
export const encryptAttachment = guarded(wasm.encryptAttachment);
export const openCodeFromRandom = guarded(wasm.openCodeFromRandom);
export const openCodeDerive = guarded(wasm.openCodeDerive);
export const passphraseDerive = guarded(wasm.passphraseDerive);
export const passphraseUnwrap = guarded(wasm.passphraseUnwrap);
export const checkProof = guarded(wasm.checkProof);
