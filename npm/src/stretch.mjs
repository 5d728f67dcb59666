// Argon2id for passphrase shares (PROTOCOL.md §12.3), loaded on demand: the
// main module imports `stretch` from here, and each call starts a worker with
// the small `oneshare_stretch` module, so a page that never meets a passphrase
// never fetches it, and Argon2id's 19 MiB and second of work stay off the
// page's thread. The worker gets the passphrase and the share's salt, never
// the link or a key. Needs `Worker` (pages and dedicated workers).

/** Resolves to the 32 stretched bytes; rejects with `passphrase` (empty or too
 * long) or `passphrase_module` (the worker or its module could not load). */
export function stretch(passphrase, salt) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./stretch-worker.mjs', import.meta.url), { type: 'module' });
    const done = (settle, value) => {
      worker.terminate();
      settle(value);
    };
    worker.onmessage = ({ data }) => (data.key ? done(resolve, data.key) : done(reject, data.code));
    worker.onerror = () => done(reject, 'passphrase_module');
    worker.postMessage({ passphrase, salt });
  });
}
