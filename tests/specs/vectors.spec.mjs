// Every case of sdk/vectors/stream.json, envelope.json, open_code.json and
// passphrase.json, negative ones included, through the packed @oneshare/sdk in
// Chromium: the attachment decrypt path, the record envelope path, and the open
// code and passphrase derivations open() uses (open() itself for bad input).
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
  // Each case twice: a stream of odd-sized chunks (copied into the SDK's buffers)
  // and a byte stream (read straight into them with a BYOB reader).
  for (const c of cases) for (const bytes of [false, true]) {
    const got = await page.evaluate(([c, s, bytes]) => window.app.streamCase(c, s, bytes), [c, seals[c.stream] ?? null, bytes]);
    if (c.op === 'seal') {
      expect(got, `${c.name} (byte stream: ${bytes})`).toEqual({
        sha256: c.expected.sha256_hex,
        header: c.expected.header_hex,
        length: c.expected.ciphertext_len,
        plaintextOk: true,
      });
    } else {
      expect(got, `${c.name} (byte stream: ${bytes})`).toEqual({ code: c.error });
    }
  }
});

test('bad segments at the edge of the download read buffers fail as anywhere else, with both stream kinds', async ({ page }) => {
  for (const bytes of [false, true]) {
    const got = await page.evaluate((bytes) => window.app.bufferEdgeCases(bytes), bytes);
    expect(got, `byte stream: ${bytes}`).toEqual({
      intact: 'ok',
      final30: 'trailing_data',
      final31: 'trailing_data',
      flip30: 'decrypt',
      flip31: 'decrypt',
    });
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

// What a negative case must give: the error code from the derivation itself and
// from the public open() path, which refuses before sending anything.
const refused = (code) => ({ direct: { code }, viaOpen: { code }, sent: 0 });

test('open_code.json: every case through the packed SDK (open() for the negative ones)', async ({ page }) => {
  const cases = load('open_code');
  expect(cases.length).toBeGreaterThanOrEqual(30);
  for (const c of cases) {
    const got = await page.evaluate((c) => window.app.openCodeCase(c), c);
    if (c.op === 'check') expect(got, c.name).toEqual(c.error ? { code: c.error } : c.expected);
    else if (c.error) expect(got, c.name).toEqual(refused(c.error));
    else expect(got, c.name).toEqual(c.expected);
  }
});

test('passphrase.json: every case through the packed SDK (Argon2id in its on-demand module, NFC by the browser; open() for the negative ones)', async ({ page }) => {
  const cases = load('passphrase');
  expect(cases.length).toBeGreaterThanOrEqual(15);
  for (const c of cases) {
    const got = await page.evaluate((c) => window.app.passphraseCase(c), c);
    if (c.op === 'derive' && c.error) expect(got, c.name).toEqual(refused(c.error));
    else if (c.op === 'derive') {
      const { salt_hex, wrap_key_hex, proof_hex, verifier_hex } = c.expected;
      expect(got, c.name).toEqual({ salt_hex, wrap_key_hex, proof_hex, verifier_hex });
    } else if (c.op === 'wrap') expect(got, c.name).toEqual({ record_key_hex: c.record_key_hex });
    else if (c.op === 'check') expect(got, c.name).toEqual(c.error ? { code: c.error } : c.expected);
    else expect(got, c.name).toEqual(c.error ? { code: c.error } : c.expected);
  }
});
