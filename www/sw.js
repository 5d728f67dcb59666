// The open page's service worker: it answers /download/JOB with the attachment
// the page handed over as JOB, decrypted segment by segment while the browser
// saves it (the Rust module `download`, viewer/src/sw.rs). A Blob URL would
// hold the whole file in memory and fails above ~500 MB.
import init, { download_response } from "/download.js";

const loaded = init();
/** Jobs handed over by the page, waiting for their navigation: id → {job, port}. */
const jobs = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const { id, job } = event.data ?? {};
  const port = event.ports[0];
  if (typeof id !== 'string' || !job || !port) return;
  jobs.set(id, { job, port });
  port.postMessage({ kind: 'ready' });
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/download/')) return;
  const id = url.pathname.slice('/download/'.length);
  const entry = jobs.get(id);
  jobs.delete(id);
  // 204: a navigation the browser ignores, so the open page stays.
  const none = () => new Response(null, { status: 204 });
  if (!entry) return event.respondWith(none());
  event.respondWith(
    loaded
      .then(() => download_response(entry.job, entry.port))
      .catch(() => (entry.port.postMessage({ kind: 'error', code: 'service_worker' }), none())),
  );
});
