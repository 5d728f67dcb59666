// `cargo xtask bench-browser`: what the second factors of protocol v2 cost, all
// in the same run, the three kinds of share alternating so each sees the same
// machine load. Each open is a fresh browser context (a new device) on a fresh
// link made on the compose page, timed by the open page's own performance marks:
//   * no code asked: press Open → record shown;
//   * the open code asked: press Open → code prompt shown, plus press of the
//     code's Open → record shown (the time spent typing is not counted);
//   * a passphrase: the same, the second part including the Argon2id worker
//     (`stretch.js` and its wasm module fetched cold) and the bind;
// and Argon2id alone (the protocol's parameters) in the packed SDK's wasm.
import { expect, test } from '@playwright/test';

const RELAY = `http://127.0.0.1:${Number(process.env.PORT ?? 4173) + 1}`;
const RUNS = 10;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds between the last marks `from` and `to` on the page. */
const between = (page, from, to) =>
  page.evaluate(([a, b]) => performance.getEntriesByName(b).at(-1).startTime - performance.getEntriesByName(a).at(-1).startTime, [from, to]);

test('@bench second factors: press → record without a code, with the open code, with a passphrase; Argon2id in wasm', async ({ browser, page }) => {
  test.setTimeout(900_000);
  const sender = await browser.newContext();
  const compose = await sender.newPage();
  await compose.goto(`${RELAY}/`);
  let made = 0;
  const share = async ({ requireCode = false, passphrase = '' } = {}) => {
    await compose.getByLabel('Title').fill(`Bench ${++made}`);
    await compose.getByLabel('Password', { exact: true }).fill(`bench-password-${made}`);
    if (requireCode) await compose.getByRole('switch', { name: 'Always ask for the open code' }).check();
    if (passphrase) await compose.getByLabel(/^Passphrase/).fill(passphrase);
    await compose.getByRole('button', { name: 'Create link' }).click();
    await expect(compose.getByRole('heading', { name: 'Your one-time link is ready' })).toBeVisible();
    const out = { link: await compose.locator('#result-link').textContent(), code: await compose.locator('#result-code').textContent(), passphrase };
    await compose.getByRole('button', { name: 'Share something else' }).click();
    return out;
  };
  const open = async ({ link, code, passphrase }, asked) => {
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(link);
    const button = p.getByRole('button', { name: 'Open', exact: true });
    await expect(button).toBeVisible();
    await p.waitForTimeout(1_100);
    await button.click();
    let ms = 0;
    if (asked) {
      const field = asked === 'code' ? p.getByLabel('Open code') : p.getByLabel('Passphrase', { exact: true });
      await expect(field).toBeVisible();
      ms += await between(p, 'oneshare:open-pressed', 'oneshare:factor-asked');
      await field.fill(asked === 'code' ? code : passphrase);
      await p.getByRole('button', { name: 'Open', exact: true }).click();
    }
    await expect(p.getByText('Opened on this device')).toBeVisible();
    ms += await between(p, asked ? 'oneshare:factor-submitted' : 'oneshare:open-pressed', 'oneshare:record-shown');
    await context.close();
    return ms;
  };
  const plain = [];
  const coded = [];
  const pass = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push(await open(await share()));
    coded.push(await open(await share({ requireCode: true }), 'code'));
    pass.push(await open(await share({ passphrase: 'bench passphrase' }), 'passphrase'));
  }
  await sender.close();

  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('loaded');
  await page.evaluate(() => window.app.init());
  const argon = await page.evaluate((n) => window.app.argon2Ms(n), RUNS);

  const result = {
    runs: RUNS,
    press_to_record_ms_median: Number(median(plain).toFixed(1)),
    with_open_code_ms_median: Number(median(coded).toFixed(1)),
    with_passphrase_ms_median: Number(median(pass).toFixed(1)),
    open_code_over_none: Number((median(coded) / median(plain)).toFixed(2)),
    passphrase_over_none: Number((median(pass) / median(plain)).toFixed(2)),
    argon2id_wasm_ms_median: Number(median(argon).toFixed(1)),
    argon2id_wasm_ms_range: [Number(Math.min(...argon).toFixed(1)), Number(Math.max(...argon).toFixed(1))],
  };
  console.log(`second factors: ${JSON.stringify(result)}`);
  for (const xs of [plain, coded, pass, argon]) expect(xs.every((x) => x > 0)).toBe(true);
});
