// Test server for Playwright: starts the real relay (`oneshare-server`) on PORT+1
// (it serves the embedded web viewer there, and the test-only clock route) with a
// temporary SQLite database, and serves on PORT
//   /            the Vite build (dist/)
//   /plain/      a page that imports the package with a plain <script type="module">
//   /pkg/        the installed package files, as in the tarball
//   /prev/       the previous package's files (ONESHARE_PREV_PKG, benchmarks only)
//   /v1/…        proxied to the relay (same origin: no CORS setup needed)
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const port = Number(process.env.PORT ?? 4173);
const relayBin = process.env.ONESHARE_RELAY_BIN;
const previous = process.env.ONESHARE_PREV_PKG; // benchmarks: the package this one replaced
const external = process.env.ONESHARE_RELAY_URL; // an already running relay
if (!relayBin && !external) {
  console.error('set ONESHARE_RELAY_BIN to the oneshare-server binary (cargo xtask does), or ONESHARE_RELAY_URL');
  process.exit(2);
}

let relayHost = '127.0.0.1';
let relayPort;
if (external) {
  const u = new URL(external);
  relayHost = u.hostname;
  relayPort = Number(u.port || 80);
} else {
  relayPort = port + 1;
  // A known place, so the viewer specs can check that no plaintext reached it.
  const dataDir = join(here, '.relay-data');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir);
  // Every test talks from 127.0.0.1: lift the per-client rate limits, keep the rest.
  // Tests open links seconds after creating them, which the relay would take for a
  // scanner (PROTOCOL.md §12.4): that signal is off here; the browser's own
  // signals (webdriver, headless, no gesture, a fast press) stay on.
  const config = join(dataDir, 'oneshare.toml');
  writeFileSync(config, '[limits]\nrequests_per_minute = 100000\nbinds_per_minute = 10000\n[scanners]\nquick_bind_secs = 0\n');
  const relay = spawn(
    relayBin,
    [
      '--config', config,
      '--listen', `127.0.0.1:${relayPort}`,
      '--database', `sqlite://${join(dataDir, 'oneshare.db')}`,
      '--data-dir', dataDir,
      '--public-url', `http://127.0.0.1:${port}`,
      // Expiry and self-destruct tests move the relay's clock instead of sleeping;
      // benchmarks run a release relay, which has no test clock.
      ...(previous ? [] : ['--insecure-test-clock']),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const stop = () => {
    relay.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('SIGTERM', () => (stop(), process.exit(0)));
  process.on('SIGINT', () => (stop(), process.exit(0)));
  relay.on('exit', (code) => {
    console.error(`relay exited (${code})`);
    process.exit(1);
  });
}

// Wait until the relay answers.
for (let i = 0; ; i++) {
  try {
    const res = await fetch(`http://${relayHost}:${relayPort}/v1/relay-key`);
    if (res.ok) break;
  } catch {
    // not up yet
  }
  if (i > 300) throw new Error('relay did not start');
  await new Promise((r) => setTimeout(r, 100));
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };
const ROOTS = [
  ['/pkg/', join(here, 'node_modules/@oneshare/sdk')],
  ...(previous ? [['/prev/', previous]] : []),
  ['/plain/', join(here, 'plain')],
  ['/', join(here, 'dist')],
];

function serveFile(req, res) {
  const url = new URL(req.url, 'http://x');
  for (const [prefix, dir] of ROOTS) {
    if (!url.pathname.startsWith(prefix)) continue;
    let rel = decodeURIComponent(url.pathname.slice(prefix.length)) || 'index.html';
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir)) break;
    try {
      if (!statSync(file).isFile()) break;
    } catch {
      break;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
    return;
  }
  res.writeHead(404).end('not found');
}

function proxy(req, res) {
  const upstream = http.request(
    { host: relayHost, port: relayPort, method: req.method, path: req.url, headers: { ...req.headers, host: `${relayHost}:${relayPort}` } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => res.writeHead(502).end());
  req.pipe(upstream);
  res.on('close', () => upstream.destroy());
}

http
  .createServer((req, res) => (req.url.startsWith('/v1/') ? proxy(req, res) : serveFile(req, res)))
  .listen(port, '127.0.0.1', () => console.log(`test server on http://127.0.0.1:${port}, relay on ${relayPort}`));
