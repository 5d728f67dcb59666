// Saving a file where there is no service worker: the same decryption as
// sw.js (the Rust module `download`, viewer/src/sw.rs) in a dedicated worker,
// collected into a Blob for the open page. A Blob holds the whole file in
// memory, so the page sends only files up to 256 MiB here.
import init, { download_response } from "/download.js";

const loaded = init();

self.addEventListener('message', async (event) => {
  const port = event.ports[0];
  if (!port) return;
  try {
    await loaded;
    const res = await download_response(event.data, port);
    // Anything but 200 was already explained on the port.
    if (res.status === 200) port.postMessage({ kind: 'blob', blob: await res.blob() });
  } catch {
    port.postMessage({ kind: 'error', code: 'download' });
  }
});
