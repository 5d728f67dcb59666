// Declarations of @oneshare/sdk/testing (byte-level helpers for tests only).
export { init } from './index.js';
export {
  randomKey,
  streamHeader,
  streamParseHeader,
  segmentNonce,
  streamSeal,
  openEnvelope,
  encryptAttachment,
  openCodeFromRandom,
  openCodeDerive,
  passphraseDerive,
  passphraseUnwrap,
  checkProof,
} from './dist/oneshare_web.js';
