// `cargo xtask bench-browser` (a release relay): the open page's budget. Each
// fresh link made on the compose page is loaded twice from a cold cache: once
// accepting only gzip (the budget's measure) from navigation through the record
// being shown after Open is pressed, and once as Chromium asks by default
// (brotli) until Open is ready, which changes nothing on the relay. Every request is
// counted (bytes on the wire: compressed bodies as the relay sent them, plus
// headers), and the page's own performance marks time navigation → Open ready and
// press → record shown. Medians of 20 runs. The test fails when the page is over its
// budget (issue 14: 110 KB gzipped in 5 requests), counted over every request until
// Open is ready: the page (HTML, CSS, JS, wasm) and its status call. The press adds
// the protocol's bind and confirm, reported as "through the record shown".
import { expect, test } from '@playwright/test';

const RELAY = `http://127.0.0.1:${Number(process.env.PORT ?? 4173) + 1}`;
const RUNS = 20;
const BUDGET_BYTES = 110_000;
const BUDGET_REQUESTS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('@bench open page: transfer, requests, navigation → Open ready, press → record', async ({ browser }) => {
  test.setTimeout(600_000);
  const sender = await browser.newContext();
  const compose = await sender.newPage();
  await compose.goto(`${RELAY}/`);
  const links = [];
  for (let i = 0; i < RUNS; i++) {
    await compose.getByLabel('Title').fill(`Bench ${i}`);
    await compose.getByLabel('Password', { exact: true }).fill(`bench-password-${i}`);
    await compose.getByRole('button', { name: 'Create link' }).click();
    await expect(compose.getByRole('heading', { name: 'Your one-time link is ready' })).toBeVisible();
    links.push(await compose.locator('#result-link').textContent());
    await compose.getByRole('button', { name: 'Share something else' }).click();
  }
  await sender.close();

  // Requests of one page, by phase: bytes on the wire and a line per file.
  const tally = async (seen) => {
    let total = 0;
    const perFile = {};
    for (const r of seen) {
      await r.response();
      const s = await r.sizes();
      const n = s.responseBodySize + s.responseHeadersSize + s.requestHeadersSize + s.requestBodySize;
      total += n;
      const name = `${r.method()} ${new URL(r.url()).pathname.replace(/-[0-9a-f]{16}\./, '.').replace(/\/v1\/shares\/[^/]+\//, '/v1/shares/ID/')}`;
      perFile[name] = `${(s.responseBodySize / 1000).toFixed(1)} KB body + ${((n - s.responseBodySize) / 1000).toFixed(1)} KB headers`;
    }
    return { total, perFile, count: seen.length };
  };
  const gzipReady = [];
  const gzipShown = [];
  const brotliReady = [];
  const ready = [];
  const open = [];
  let files = {};
  for (const link of links) {
    // Brotli, as Chromium asks by default: until Open is ready (consumes nothing).
    const plain = await browser.newContext();
    const first = await plain.newPage();
    const seenBr = [];
    first.on('request', (r) => seenBr.push(r));
    await first.goto(link);
    await expect(first.getByRole('button', { name: 'Open', exact: true })).toBeVisible();
    await first.waitForLoadState('networkidle');
    brotliReady.push(await tally(seenBr));
    await plain.close();

    // gzip only: through the record being shown.
    const context = await browser.newContext({ extraHTTPHeaders: { 'accept-encoding': 'gzip' } });
    const page = await context.newPage();
    const seen = [];
    page.on('request', (r) => seen.push(r));
    await page.goto(link);
    const button = page.getByRole('button', { name: 'Open', exact: true });
    await expect(button).toBeVisible();
    await page.waitForLoadState('networkidle');
    gzipReady.push(await tally([...seen]));
    ready.push(await page.evaluate(() => performance.getEntriesByName('oneshare:open-ready')[0].startTime));
    await page.waitForTimeout(1_100);
    await button.click();
    await expect(page.getByText('Opened on this device')).toBeVisible();
    await page.waitForLoadState('networkidle');
    const shown = await tally(seen);
    gzipShown.push(shown);
    files = shown.perFile;
    open.push(
      await page.evaluate(
        () => performance.getEntriesByName('oneshare:record-shown')[0].startTime - performance.getEntriesByName('oneshare:open-pressed')[0].startTime,
      ),
    );
    await context.close();
  }
  const kb = (n) => (n / 1000).toFixed(1);
  const line = (runs) => `${kb(median(runs.map((r) => r.total)))} KB in ${median(runs.map((r) => r.count))} requests`;
  console.log(`open page, median of ${RUNS} cold loads (budget ${kb(BUDGET_BYTES)} KB gzipped, ${BUDGET_REQUESTS} requests):`);
  console.log(`  gzip, until Open is ready (the budget): ${line(gzipReady)}`);
  console.log(`  gzip, navigation through the record shown: ${line(gzipShown)}`);
  console.log(`  brotli, until Open is ready: ${line(brotliReady)}`);
  console.log('  gzip, per request through the record shown (last run):');
  for (const [name, what] of Object.entries(files)) console.log(`    ${name}: ${what}`);
  console.log(`  navigation → Open ready: ${median(ready).toFixed(0)} ms; press → record shown: ${median(open).toFixed(0)} ms`);
  // The page's own requests (HTML, CSS, JS, wasm, status) until Open is ready;
  // after the press come the protocol's calls (bind, confirm).
  expect.soft(median(gzipReady.map((r) => r.count)), 'requests until Open is ready').toBeLessThanOrEqual(BUDGET_REQUESTS);
  expect.soft(median(gzipReady.map((r) => r.total)), 'gzipped bytes on the wire until Open is ready').toBeLessThanOrEqual(BUDGET_BYTES);
});
