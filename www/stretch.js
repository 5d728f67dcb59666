// Argon2id for shares with a passphrase (PROTOCOL.md §12.3), in a dedicated
// worker the open page starts only for such a share: the Rust module
// `passphrase` (oneshare-web's `stretch` export, web/src/stretch.rs) stays out of the open page's own module,
// and the 19 MiB it fills out of the page's thread. It gets the passphrase and
// the share's salt, never the link or a key.
import init, { stretch } from "/passphrase.js";

const loaded = init();

self.addEventListener('message', async (event) => {
  try {
    await loaded;
    self.postMessage({ kind: 'key', key: stretch(event.data.passphrase, event.data.salt) });
  } catch (e) {
    self.postMessage({ kind: 'error', code: typeof e === 'string' ? e : 'passphrase_worker' });
  }
});
