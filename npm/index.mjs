// @oneshare/sdk: end-to-end-encrypted one-time shares in the browser.
//
//   import { init, Oneshare } from '@oneshare/sdk';
//   await init();
//   const client = await Oneshare.connect('https://share.example');
import { core } from './src/core.mjs';

export { init, isInitialized, OneshareError } from './src/core.mjs';
export { Oneshare } from './src/client.mjs';
export { decryptStream as decryptAttachment } from './src/stream.mjs';

/**
 * Parses a link (`…/s#T`, `…/s%23T`, `…/s%2523T` or a bare token) and returns
 * its share id; throws `invalid_link` with advice for the user.
 * @param {string} link
 */
export function parseLink(link) {
  return { shareId: core().shareIdFromLink(link) };
}

/**
 * Parses a duration such as `30m`, `1h`, `7d`, `2w` or `1h30m` into seconds.
 * @param {string} text
 */
export function parseDuration(text) {
  return core().parseDuration(text);
}

/**
 * Formats seconds as a duration (`5400` → `1h30m`).
 * @param {number} seconds
 */
export function formatDuration(seconds) {
  return core().formatDuration(seconds);
}

/**
 * Low-level bindings of the Rust core (byte layouts, AADs, canonical strings).
 * For tests and advanced clients; the `Oneshare` class covers normal use.
 */
export function bindings() {
  return core();
}
