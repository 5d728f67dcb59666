// `cargo xtask bench-browser` only: the package this one replaced (built from git
// by xtask, served at /prev/), timed the same way as window.app.open.
import { init, Oneshare } from '/prev/index.mjs';

let client = null;
window.previous = {
  async open(link) {
    client ??= await Oneshare.connect(location.origin);
    const t0 = performance.now();
    const r = await client.open(link);
    return { ms: performance.now() - t0, title: r.record.title };
  },
};
await init();
document.getElementById('status').textContent = 'ready';
