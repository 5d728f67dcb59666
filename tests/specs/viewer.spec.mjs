// The web viewer the relay embeds: the compose page (/) and the open page (/s#T),
// driven the way a person uses them (roles and labels, real clicks and keys) in
// Debian's Chromium, against the real relay (serve.mjs, on PORT+1, with its
// test-only clock). Every browser context is its own device.
import { createHmac } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

const here = fileURLToPath(new URL('..', import.meta.url));
const RELAY = `http://127.0.0.1:${Number(process.env.PORT ?? 4173) + 1}`;
const SHOTS = join(here, 'test-results', 'screenshots');
// Plaintext that must never reach the relay's files (checked at the end).
const MARKERS = [];
const secret = (s) => (MARKERS.push(s), s);
// RFC 6238's test secret; any TOTP app shows the same codes.
const TOTP = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** A page that records console errors and CSP violations. */
async function device(browser, { colorScheme = 'light', viewport } = {}) {
  const context = await browser.newContext({ colorScheme, viewport, permissions: ['clipboard-read', 'clipboard-write'] });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.problems = [];
  // Chromium itself logs every non-2xx fetch; a relay saying "gone" (410) or
  // "already bound" (409) is an expected answer the page explains, not an error.
  const expected = /^Failed to load resource: the server responded with a status of (409|410) /;
  page.on('console', (m) => m.type() === 'error' && !expected.test(m.text()) && page.problems.push(m.text()));
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return { context, page };
}

async function clean(page) {
  expect(page.problems, 'console errors').toEqual([]);
  expect(await page.evaluate(() => window.__csp)).toEqual([]);
}

/** axe: no serious or critical violation in the current state. */
async function accessible(page, what) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target).join(' ')}`)).toEqual([]);
}

/** Screenshots of a state at 1280 and 375 px, light and dark, as test output. */
async function shoot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize();
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
      await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(size ?? { width: 1280, height: 720 });
}

/** Makes a share on the compose page; returns its link. */
async function compose(page, { title, login, password, totp, note, selfDestruct = false, label = '' }) {
  await page.goto(`${RELAY}/`);
  await expect(page.getByRole('heading', { name: 'Share a secret once' })).toBeVisible();
  await page.getByLabel('Title').fill(title);
  if (login) await page.getByLabel('Login', { exact: true }).fill(login);
  if (password) await page.getByLabel('Password', { exact: true }).fill(password);
  if (totp) {
    await page.getByRole('button', { name: '+ One-time code' }).click();
    await page.getByRole('textbox', { name: /One-time code/ }).fill(totp);
    await expect(page.getByText(/Current code: \d{6}/)).toBeVisible();
  }
  if (note) {
    await page.getByRole('button', { name: '+ Note' }).click();
    await page.getByRole('textbox', { name: 'Note' }).fill(note);
  }
  if (selfDestruct) await page.getByLabel('Self-destruct').check();
  if (label) await page.getByLabel(/Your label/).fill(label);
  await page.getByRole('button', { name: 'Create link' }).click();
  await expect(page.getByRole('heading', { name: 'Your one-time link is ready' })).toBeVisible();
  const link = await page.locator('#result-link').textContent();
  expect(link).toMatch(new RegExp(`^${RELAY}/s#[A-Za-z0-9_-]{43}$`));
  return link;
}

/** Waits until the Open button may bind (~1 s after it appeared), then clicks it. */
async function openShare(page) {
  const open = page.getByRole('button', { name: 'Open', exact: true });
  await expect(open).toBeVisible();
  await page.waitForTimeout(1_200);
  await open.click();
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) in Node, to check the page's codes. */
function totpAt(secs) {
  const key = Buffer.from('12345678901234567890');
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(secs / 30)));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('compose → open by a real click → TOTP ticks → reload → second device refused → live list → edit → delete', async ({ browser }) => {
  const sender = await device(browser);
  const password = secret('correct-horse-battery-staple-7731');
  const link = await compose(sender.page, {
    title: secret('Staging database 5521'),
    login: 'admin@example.com',
    password,
    totp: TOTP,
    note: secret('Rotate after the audit, thanks! 9917'),
    label: 'for Alice',
  });
  await accessible(sender.page, 'result');
  await shoot(sender.page, 'compose-result');
  await clean(sender.page);

  // Device A opens it: the page first says what waits, binds only on the click.
  const a = await device(browser);
  await a.page.goto(link);
  await expect(a.page.getByRole('heading', { name: 'Someone shared something with you' })).toBeVisible();
  await expect(a.page.getByText('It opens on one device only — this one, if you continue.')).toBeVisible();
  // The token left the address bar and the history entry at once.
  expect(a.page.url()).toBe(`${RELAY}/s`);
  await accessible(a.page, 'ready');
  await shoot(a.page, 'open-ready');
  await openShare(a.page);
  await expect(a.page.getByRole('heading', { name: 'Staging database 5521' })).toBeVisible();
  // Password hidden until revealed.
  await expect(a.page.getByText(password)).toHaveCount(0);
  await a.page.getByRole('button', { name: 'Show password' }).click();
  await expect(a.page.getByText(password)).toBeVisible();
  // The TOTP code is RFC 6238's for the browser's clock, and it changes.
  const code = a.page.locator('.field-value.totp');
  await expect(code).toHaveText(/^\d{6}$/);
  const now = Date.now() / 1000;
  expect([totpAt(now - 2), totpAt(now), totpAt(now + 2)]).toContain(await code.textContent());
  const countdown = a.page.locator('.countdown span');
  const before = await countdown.textContent();
  await expect(countdown).not.toHaveText(before ?? '');
  await accessible(a.page, 'record');
  await shoot(a.page, 'open-record');

  // Reloading A shows it again (the keys are on this device).
  await a.page.reload();
  await expect(a.page.getByRole('heading', { name: 'Staging database 5521' })).toBeVisible();

  // Device B is told plainly.
  const b = await device(browser);
  await b.page.goto(link);
  await expect(b.page.getByRole('heading', { name: 'This share was opened on another device' })).toBeVisible();
  await accessible(b.page, 'other-device');
  await shoot(b.page, 'open-other-device');
  // It is bound: no Open button is offered.
  await expect(b.page.getByRole('button', { name: 'Open', exact: true })).toBeHidden();

  // The sender's list shows the open and the refused attempt, live.
  await sender.page.getByRole('navigation').getByRole('link', { name: 'My shares' }).click();
  const row = sender.page.locator('.share', { hasText: 'for Alice' });
  await expect(row.locator('.badge')).toHaveText('Opened');
  await expect(row.getByText(/refused/)).toHaveCount(0);
  // B tells the sender (a real press: a bind attempt the relay refuses and records).
  await b.page.waitForTimeout(1_200);
  await b.page.getByRole('button', { name: 'Tell the sender' }).click();
  await expect(b.page.getByText('The sender has been told')).toBeVisible();
  await expect(row.getByText(/refused/)).toBeVisible();
  await accessible(sender.page, 'my-shares');
  await shoot(sender.page, 'my-shares');

  // Edit: A sees version 2.
  await row.getByRole('button', { name: 'Edit for Alice' }).click();
  await sender.page.getByLabel('Title').fill('Staging database (rotated)');
  await sender.page.getByLabel('Password', { exact: true }).fill(secret('new-password-after-rotation-4242'));
  await sender.page.getByRole('button', { name: 'Save new version' }).click();
  await expect(row.locator('.share-times')).toContainText('version 2');
  await a.page.reload();
  await expect(a.page.getByRole('heading', { name: 'Staging database (rotated)' })).toBeVisible();

  // Delete now: A shows revoked, and its keys are gone.
  await row.getByRole('button', { name: 'Delete for Alice now' }).click();
  // Deleted for good: it leaves the list.
  await expect(row).toHaveCount(0);
  await a.page.reload();
  await expect(a.page.getByRole('heading', { name: 'The sender deleted this share' })).toBeVisible();
  const keys = await a.page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.open('oneshare-sdk');
        req.onsuccess = () => {
          const db = req.result;
          const names = [...db.objectStoreNames];
          if (!names.length) return resolve(0);
          const tx = db.transaction(names, 'readonly');
          let n = 0;
          names.forEach((s) => (tx.objectStore(s).count().onsuccess = (e) => (n += e.target.result)));
          tx.oncomplete = () => resolve(n);
        };
      }),
  );
  expect(keys).toBe(0);
  await accessible(a.page, 'revoked');
  await shoot(a.page, 'open-revoked');
  for (const d of [sender, a, b]) await clean(d.page);
});
