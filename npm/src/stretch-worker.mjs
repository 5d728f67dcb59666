// The worker `stretch.mjs` starts for one passphrase: loads the Argon2id module
// (`dist/oneshare_stretch.js`, crate oneshare-web with feature `stretch`),
// answers `{ key }` or `{ code }`, and is terminated.
import init, { stretch } from '../dist/oneshare_stretch.js';

const loaded = init();

self.onmessage = async ({ data }) => {
  try {
    await loaded;
    self.postMessage({ key: stretch(data.passphrase, data.salt) });
  } catch (e) {
    self.postMessage({ code: typeof e === 'string' ? e : 'passphrase_module' });
  }
};
