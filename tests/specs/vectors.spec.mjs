// Every case of sdk/vectors/stream.json and envelope.json, negative ones
// included, through the packed @oneshare/sdk in Chromium: the attachment decrypt
// path and the record envelope path the client uses.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

const load = (name) => JSON.parse(readFileSync(new URL(`../../sdk/vectors/${name}.json`, import.meta.url), 'utf8')).cases;

test.beforeEach(async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('loaded');
  await page.evaluate(() => window.app.init());
});

test('stream.json: every case through decryptAttachment', async ({ page }) => {
  const cases = load('stream');
  const seals = Object.fromEntries(cases.filter((c) => c.op === 'seal').map((c) => [c.name, c]));
  expect(cases.length).toBeGreaterThanOrEqual(28);
  for (const c of cases) {
    const got = await page.evaluate(([c, s]) => window.app.streamCase(c, s), [c, seals[c.stream] ?? null]);
    if (c.op === 'seal') {
      expect(got, c.name).toEqual({
        sha256: c.expected.sha256_hex,
        header: c.expected.header_hex,
        length: c.expected.ciphertext_len,
        plaintextOk: true,
      });
    } else {
      expect(got, c.name).toEqual({ code: c.error });
    }
  }
});

test('envelope.json: every case through the envelope open path', async ({ page }) => {
  const cases = load('envelope');
  expect(cases.length).toBeGreaterThanOrEqual(19);
  for (const c of cases) {
    const got = await page.evaluate((c) => window.app.envelopeCase(c), c);
    expect(got, c.name).toEqual(c.op === 'seal' ? { plaintext: c.plaintext_hex } : { code: c.error });
  }
});
