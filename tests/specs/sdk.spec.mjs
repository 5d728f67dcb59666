// @oneshare/sdk from its packed tarball, in Debian's Chromium, against the real
// relay. Each browser context is a separate device (its own IndexedDB).
import { expect, test } from '@playwright/test';

const record = {
  title: 'Production database',
  fields: [
    { type: 'login', value: 'admin' },
    { type: 'password', value: 'correct horse battery staple' },
    { type: 'custom', label: 'PIN', value: '1234' },
  ],
};

async function device(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('loaded');
  await page.evaluate(() => window.app.init());
  await expect(page.getByRole('status')).toHaveText('ready');
  return { context, page };
}

const call = (page, name, ...args) => page.evaluate(([n, a]) => window.app[n](...a), [name, args]);

test('init is explicit: calls before it fail with not_initialized', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('loaded');
  const early = await call(page, 'beforeInit');
  expect(early).toMatchObject({ error: true, code: 'not_initialized', isOneshare: true });
  expect(early.message).toContain('await init()');
  await page.evaluate(() => window.app.init());
  await expect(page.getByRole('status')).toHaveText('ready');
});

test('create with an attachment, open on a second device, read, download, compare SHA-256', async ({ browser }) => {
  const sender = await device(browser);
  const size = 3 * 65536 + 12345; // several segments and a short final one
  const created = await call(sender.page, 'create', { record, attachmentSize: size, label: 'for Alice', expiresIn: '1h' });
  expect(created.error).toBeUndefined();
  expect(created.link).toMatch(/\/s#[A-Za-z0-9_-]{43}$/);
  expect(created.progress.at(-1)).toBe(size);

  const recipient = await device(browser);
  // A mail scanner's re-encoded fragment opens the same share.
  const opened = await call(recipient.page, 'open', created.link.replace('#', '%23'), created.openCode);
  expect(opened.error).toBeUndefined();
  expect(opened.shareId).toBe(created.shareId);
  expect(opened.record.title).toBe(record.title);
  expect(opened.record.fields).toEqual(record.fields);
  expect(opened.version).toBe(1);
  const [meta] = opened.record.attachments;
  expect(meta).toMatchObject({ name: 'data.bin', size });

  const got = await call(recipient.page, 'download', opened.shareId, meta.id);
  expect(got.error).toBeUndefined();
  expect(got).toMatchObject({ size, sha256: created.sha256, lastProgress: size });

  // Keys in IndexedDB are non-extractable CryptoKeys.
  const locked = await call(recipient.page, 'keysAreLocked');
  expect(locked.length).toBeGreaterThanOrEqual(2);
  for (const k of locked) expect(k).toMatchObject({ extractable: false, exported: false });
  const ownerLocked = await call(sender.page, 'keysAreLocked');
  expect(ownerLocked.map((k) => k.algorithm).sort()).toEqual(['AES-GCM', 'ECDSA']);
  for (const k of ownerLocked) expect(k).toMatchObject({ extractable: false, exported: false });

  // A reload keeps the device's keys: the record is still readable, by share id.
  await recipient.page.reload();
  await expect(recipient.page.getByRole('status')).toHaveText('loaded');
  await recipient.page.evaluate(() => window.app.init());
  const again = await call(recipient.page, 'record', created.shareId);
  expect(again.record.title).toBe(record.title);
  const onDevice = await call(recipient.page, 'sharesOnDevice');
  expect(onDevice).toEqual([expect.objectContaining({ shareId: created.shareId, confirmed: true })]);
  // Opening the same link again on the same device just reads it.
  expect((await call(recipient.page, 'open', created.link, created.openCode)).record.title).toBe(record.title);

  // A second device is refused with a clear code.
  const third = await device(browser);
  const refused = await call(third.page, 'open', created.link, created.openCode);
  expect(refused).toMatchObject({ error: true, status: 409 });
  expect(refused.code).toBe('already_bound');

  // forget deletes the keys on this device.
  await call(recipient.page, 'forget', created.shareId);
  expect(await call(recipient.page, 'sharesOnDevice')).toEqual([]);
  expect((await call(recipient.page, 'record', created.shareId)).code).toBe('not_on_device');
  for (const d of [sender, recipient, third]) await d.context.close();
});

test('attachments from a ReadableStream, several parts, and an empty file', async ({ browser }) => {
  const sender = await device(browser);
  const size = 2 * 1024 * 1024 + 999;
  const created = await call(sender.page, 'create', { record, attachmentSize: size, asStream: true, alsoEmpty: true });
  expect(created.error).toBeUndefined();
  const recipient = await device(browser);
  const opened = await call(recipient.page, 'open', created.link, created.openCode);
  const [big, empty] = opened.record.attachments;
  expect(big).toMatchObject({ name: 'data.bin', size });
  expect(empty).toMatchObject({ name: 'empty.txt', mime: 'text/plain', size: 0 });
  expect(await call(recipient.page, 'download', opened.shareId, big.id)).toMatchObject({ size, sha256: created.sha256 });
  expect(await call(recipient.page, 'download', opened.shareId, empty.id)).toMatchObject({
    size: 0,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
  for (const d of [sender, recipient]) await d.context.close();
});

test('an upload resumes after a part is lost on the network', async ({ browser }) => {
  const sender = await device(browser);
  // The second part PUT is lost: the client asks the relay where to resume and
  // sends it again (the file spans several parts for any part size up to 8 MiB).
  const puts = [];
  await sender.page.route('**/attachments/*/parts/*', async (route) => {
    puts.push(route.request().url().split('/').at(-1));
    if (puts.length === 2) await route.abort('connectionreset');
    else await route.continue();
  });
  const size = 9 * 1024 * 1024 + 7;
  const created = await call(sender.page, 'create', { record, attachmentSize: size });
  expect(created.error).toBeUndefined();
  expect(puts[2]).toBe(puts[1]); // the lost part was sent again, not the whole file
  const recipient = await device(browser);
  const opened = await call(recipient.page, 'open', created.link, created.openCode);
  const got = await call(recipient.page, 'download', opened.shareId, opened.record.attachments[0].id);
  expect(got).toMatchObject({ size, sha256: created.sha256 });
  for (const d of [sender, recipient]) await d.context.close();
});

test('a lost bind answer is retried with the same device key', async ({ browser }) => {
  const sender = await device(browser);
  const created = await call(sender.page, 'create', { record, expiresIn: '30m' });
  const recipient = await device(browser);
  let dropped = 0;
  await recipient.page.route('**/v1/shares/*/bind', async (route) => {
    if (dropped === 0) {
      dropped += 1;
      await route.fetch(); // the relay binds…
      await route.abort('connectionreset'); // …but the answer is lost
    } else {
      await route.continue();
    }
  });
  const first = await call(recipient.page, 'open', created.link, created.openCode);
  expect(first).toMatchObject({ error: true, code: 'network' });
  const onDevice = await call(recipient.page, 'sharesOnDevice');
  expect(onDevice).toEqual([expect.objectContaining({ shareId: created.shareId, confirmed: false })]);
  const second = await call(recipient.page, 'open', created.link, created.openCode);
  expect(second.error).toBeUndefined();
  expect(second.record.title).toBe(record.title);
  expect(dropped).toBe(1);
  for (const d of [sender, recipient]) await d.context.close();
});

test('owner: list with decrypted label, update, events, revoke ends access and forgets keys', async ({ browser }) => {
  const sender = await device(browser);
  const created = await call(sender.page, 'create', { record, label: 'DB for Bob', expiresIn: '2h' });
  const recipient = await device(browser);
  expect((await call(recipient.page, 'open', created.link, created.openCode)).version).toBe(1);

  const list = await call(sender.page, 'listShares');
  const mine = list.find((s) => s.shareId === created.shareId);
  expect(mine).toMatchObject({ label: 'DB for Bob', state: 'bound', recordVersion: 1 });

  const updated = { ...record, title: 'Production database (rotated)' };
  expect(await call(sender.page, 'update', created.shareId, updated)).toEqual({ shareId: created.shareId, version: 2 });
  const fresh = await call(recipient.page, 'record', created.shareId);
  expect(fresh).toMatchObject({ version: 2, record: { title: updated.title } });

  const events = await call(sender.page, 'events', 3, 5000);
  expect(events.error).toBeUndefined();
  const kinds = events.filter((e) => e.shareId === created.shareId).map((e) => e.kind);
  expect(kinds).toEqual(expect.arrayContaining(['created', 'bound']));
  // The device that opened is named by its fingerprint (PROTOCOL.md §9.6).
  const bound = events.find((e) => e.shareId === created.shareId && e.kind === 'bound');
  expect(bound.deviceFingerprint).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);

  await call(sender.page, 'revoke', created.shareId);
  const gone = await call(recipient.page, 'record', created.shareId);
  expect(gone).toMatchObject({ error: true, code: 'revoked' });
  expect(await call(recipient.page, 'sharesOnDevice')).toEqual([]);
  const after = (await call(sender.page, 'listShares')).find((s) => s.shareId === created.shareId);
  expect(after.state).toBe('revoked');
  for (const d of [sender, recipient]) await d.context.close();
});

test('without IndexedDB, open fails with storage_unavailable and advice', async ({ browser }) => {
  const sender = await device(browser);
  const created = await call(sender.page, 'create', { record, expiresIn: '30m' });
  const context = await browser.newContext();
  // As in a browser that blocks site data: no IndexedDB at all.
  await context.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('loaded');
  await page.evaluate(() => window.app.init());
  const failed = await call(page, 'open', created.link, created.openCode);
  expect(failed).toMatchObject({ error: true, code: 'storage_unavailable', isOneshare: true });
  expect(failed.message).toMatch(/normal window/);
  // Nothing was bound: the link still opens on a working device.
  const recipient = await device(browser);
  expect((await call(recipient.page, 'open', created.link, created.openCode)).record.title).toBe(record.title);
  for (const c of [sender.context, context, recipient.context]) await c.close();
});

/** A code that differs from `code` in its first symbol. */
const otherCode = (code) => (code[0] === 'A' ? 'B' : 'A') + code.slice(1);

test('open code: asked for without a gesture, typed loosely it opens; wrong ones count; the fifth locks and the sender is told', async ({ browser }) => {
  const sender = await device(browser);
  const created = await call(sender.page, 'create', { record, expiresIn: '1h' });
  expect(created.openCode).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  const recipient = await device(browser);
  // open() called by script, no user gesture: looks automated, so the code is asked for.
  expect(await call(recipient.page, 'open', created.link)).toMatchObject({ error: true, code: 'code_required', status: 403 });
  expect(await call(recipient.page, 'sharesOnDevice')).toEqual([]);
  expect(await call(recipient.page, 'open', created.link, 'ABC-DEF')).toMatchObject({ code: 'invalid_code' });
  expect(await call(recipient.page, 'open', created.link, otherCode(created.openCode))).toMatchObject({ code: 'wrong_code', status: 403, attemptsLeft: 4 });
  const typed = ` ${created.openCode.toLowerCase().replace('-', ' ')} `;
  const opened = await call(recipient.page, 'open', created.link, typed);
  expect(opened.error).toBeUndefined();
  expect(opened.record.fields).toEqual(record.fields);

  // Required code, five wrong attempts: locked for everyone, the sender told.
  const locked = await call(sender.page, 'create', { record, expiresIn: '1h', requireCode: true });
  const guesser = await device(browser);
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await call(guesser.page, 'open', locked.link, otherCode(locked.openCode)));
  expect(answers.map((a) => [a.code, a.attemptsLeft])).toEqual([
    ['wrong_code', 4], ['wrong_code', 3], ['wrong_code', 2], ['wrong_code', 1], ['locked', undefined],
  ]);
  expect(await call(recipient.page, 'open', locked.link, locked.openCode)).toMatchObject({ code: 'locked', status: 423 });
  const events = await call(sender.page, 'eventsUntil', locked.shareId, 'locked', 10_000);
  expect(events.at(-1)).toMatchObject({ kind: 'refused_device', detail: expect.stringContaining('the share is locked') });
  for (const d of [sender, recipient, guesser]) await d.context.close();
});

/** The wasm modules a page fetched (bundled names carry a hash). */
function wasmFetched(page) {
  const seen = [];
  page.context().on('request', (r) => new URL(r.url()).pathname.endsWith('.wasm') && seen.push(new URL(r.url()).pathname));
  return seen;
}

test('a passphrase share opens only with the passphrase (NFC: typed decomposed, it matches); Argon2id loads only for it', async ({ browser }) => {
  const sender = await device(browser);
  // Composed é and û (NFC) at create; the recipient types them decomposed (NFD).
  const created = await call(sender.page, 'create', { record, passphrase: 'cr\u00e8me br\u00fbl\u00e9e' });
  expect(created.error).toBeUndefined();
  const recipient = await device(browser);
  const wasm = wasmFetched(recipient.page);
  expect(await call(recipient.page, 'open', created.link, created.openCode)).toMatchObject({ code: 'passphrase_required', status: 403 });
  // Only the client's module so far: Argon2id is fetched when a passphrase is given.
  expect(wasm.filter((p) => /stretch/.test(p))).toEqual([]);
  expect(await call(recipient.page, 'open', created.link, created.openCode, 'creme brulee')).toMatchObject({ code: 'wrong_passphrase', attemptsLeft: 4 });
  expect(wasm.filter((p) => /stretch/.test(p)).length).toBe(1);
  const decomposed = 'cre\u0300me bru\u0302le\u0301e';
  expect(decomposed).not.toBe(decomposed.normalize('NFC'));
  const opened = await call(recipient.page, 'open', created.link, created.openCode, decomposed);
  expect(opened.error).toBeUndefined();
  expect(opened.record.fields).toEqual(record.fields);
  for (const d of [sender, recipient]) await d.context.close();
});

// Replaces one CryptoKey of a device entry in the SDK's IndexedDB with a real key
// that WebCrypto refuses for the SDK's use of it (`publicKey`: an ECDSA public key
// where the private one belongs; `encryptOnly`: an AES-GCM key without `decrypt`),
// or puts the original back (`restore`).
function swapStoredKey(page, shareId, field, kind) {
  return page.evaluate(
    ([id, f, k]) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('oneshare-sdk');
        req.onerror = () => reject(req.error);
        req.onsuccess = async () => {
          const db = req.result;
          const get = db.transaction('devices').objectStore('devices').get(id);
          const entry = await new Promise((ok) => (get.onsuccess = () => ok(get.result)));
          window.savedKeys ??= {};
          window.savedKeys[f] ??= entry[f];
          const subtle = crypto.subtle;
          const make = {
            publicKey: async () =>
              (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])).publicKey,
            encryptOnly: () => subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']),
            restore: async () => window.savedKeys[f],
          }[k];
          entry[f] = await make();
          const tx = db.transaction('devices', 'readwrite');
          tx.objectStore('devices').put(entry);
          tx.oncomplete = () => (db.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      }),
    [shareId, field, kind],
  );
}

test('a real WebCrypto failure (a stored key that cannot sign or decrypt) throws webcrypto and keeps the keys', async ({ browser }) => {
  const sender = await device(browser);
  const created = await call(sender.page, 'create', { record, expiresIn: '30m' });
  const recipient = await device(browser);
  expect((await call(recipient.page, 'open', created.link, created.openCode)).record.title).toBe(record.title);

  // The device key replaced by a public key: Chromium's subtle.sign rejects it.
  await swapStoredKey(recipient.page, created.shareId, 'privateKey', 'publicKey');
  const signing = await call(recipient.page, 'record', created.shareId);
  expect(signing).toMatchObject({ error: true, code: 'webcrypto', isOneshare: true });
  expect(signing.message).toBe('WebCrypto sign failed (InvalidAccessError)');
  await swapStoredKey(recipient.page, created.shareId, 'privateKey', 'restore');

  // The record key replaced by an AES-GCM key allowed only to encrypt: subtle.decrypt rejects.
  await swapStoredKey(recipient.page, created.shareId, 'recordKey', 'encryptOnly');
  const decrypting = await call(recipient.page, 'record', created.shareId);
  expect(decrypting).toMatchObject({ error: true, code: 'webcrypto', isOneshare: true });
  expect(decrypting.message).toBe('WebCrypto decrypt failed (InvalidAccessError)');
  await swapStoredKey(recipient.page, created.shareId, 'recordKey', 'restore');

  // Neither failure forgot the share: with its own keys back it reads again.
  expect(await call(recipient.page, 'sharesOnDevice')).toEqual([expect.objectContaining({ shareId: created.shareId })]);
  expect((await call(recipient.page, 'record', created.shareId)).record.title).toBe(record.title);
  for (const d of [sender, recipient]) await d.context.close();
});

test('works from a plain <script type="module"> without a bundler (a passphrase share included)', async ({ page }) => {
  const stretch = [];
  page.on('request', (r) => /stretch/.test(r.url()) && stretch.push(new URL(r.url()).pathname));
  await page.goto('/plain/');
  await expect(page.getByRole('status')).toHaveText(/^ready [A-Za-z0-9_-]{11}$/);
  expect(stretch).toEqual(expect.arrayContaining(['/pkg/src/stretch-worker.mjs', '/pkg/dist/oneshare_stretch_bg.wasm']));
});

// `cargo xtask bench-browser` (release relay, previous package at /prev/): the
// budgets of issue 10 as ratios measured in this run.
test('@bench attachment decrypt and upload-encrypt vs raw SubtleCrypto; open → record vs the previous package', async ({ browser }) => {
  test.setTimeout(600_000);
  const d = await device(browser);
  const dec = await call(d.page, 'benchDecrypt', 64);
  expect(dec.error).toBeUndefined();
  const enc = await call(d.page, 'benchEncrypt', 64);
  expect(enc.error).toBeUndefined();
  const sender = await device(browser);
  // The previous package on its own device (a page importing it from /prev/).
  const prevContext = process.env.ONESHARE_PREV_PKG ? await browser.newContext() : null;
  const prev = prevContext ? await prevContext.newPage() : null;
  if (prev) {
    await prev.goto('/plain/previous.html');
    await expect(prev.getByRole('status')).toHaveText('ready');
  }
  const now = [];
  const before = [];
  // Median of 20, the two packages alternating so both see the same machine load.
  for (let i = 0; i < 20; i++) {
    const a = await call(sender.page, 'create', { record, expiresIn: '10m' });
    const opened = await call(d.page, 'open', a.link, a.openCode);
    expect(opened.error).toBeUndefined();
    now.push(opened.ms);
    if (prev) {
      const b = await call(sender.page, 'create', { record, expiresIn: '10m' });
      const old = await prev.evaluate((link) => window.previous.open(link), b.link);
      expect(old.title).toBe(record.title);
      before.push(old.ms);
    }
  }
  const median = (xs) => {
    const s = [...xs].sort((x, y) => x - y);
    return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
  };
  const result = {
    decrypt_ratio: Number(dec.ratio.toFixed(2)),
    decrypt_ratio_range: [Number(dec.low.toFixed(2)), Number(dec.high.toFixed(2))],
    decrypt_MBps: Math.round(dec.sdkMBps),
    decrypt_raw_MBps: Math.round(dec.rawMBps),
    encrypt_ratio: Number(enc.ratio.toFixed(2)),
    encrypt_ratio_range: [Number(enc.low.toFixed(2)), Number(enc.high.toFixed(2))],
    encrypt_MBps: Math.round(enc.sdkMBps),
    encrypt_raw_MBps: Math.round(enc.rawMBps),
    open_to_record_ms_median: Number(median(now).toFixed(1)),
    ...(prev
      ? {
          previous_open_to_record_ms_median: Number(median(before).toFixed(1)),
          open_ratio_previous_over_now: Number((median(before) / median(now)).toFixed(2)),
        }
      : {}),
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
  test.info().annotations.push({ type: 'bench', description: JSON.stringify(result) });
  await prevContext?.close();
  expect(dec.ratio).toBeGreaterThan(0.3);
  expect(enc.ratio).toBeGreaterThan(0.3);
});

test('a device refused because a bot bound first asks, the sender compares codes and moves the share', async ({ browser }) => {
  const sender = await device(browser);
  const created = await call(sender.page, 'create', { record, label: 'for Alice' });
  expect(created.error).toBeUndefined();
  const bot = await device(browser);
  expect((await call(bot.page, 'open', created.link, created.openCode)).error).toBeUndefined();
  const me = await device(browser);
  expect(await call(me.page, 'open', created.link)).toMatchObject({ error: true, code: 'already_bound', status: 409 });

  const asked = await call(me.page, 'requestTransfer', created.link);
  expect(asked).toMatchObject({ state: 'pending' });
  expect(asked.comparisonCode).toMatch(/^\d{3} \d{3}$/);
  const [incoming] = await call(sender.page, 'pendingTransfers');
  expect(incoming).toMatchObject({ shareId: created.shareId, label: 'for Alice', comparisonCode: asked.comparisonCode });
  const wrong = asked.comparisonCode === '000 000' ? '111 111' : '000 000';
  expect(await call(sender.page, 'approveTransfer', created.shareId, wrong)).toMatchObject({ error: true, code: 'code_mismatch', isOneshare: true });
  expect(await call(me.page, 'transferStatus', created.link)).toMatchObject({ state: 'pending', comparisonCode: asked.comparisonCode });
  expect(await call(sender.page, 'approveTransfer', created.shareId, asked.comparisonCode)).toBeUndefined();

  const moved = await call(me.page, 'transferStatus', created.link);
  expect(moved.state).toBe('approved');
  expect(moved.result.record.fields).toEqual(record.fields);
  expect((await call(me.page, 'record', created.shareId)).record.title).toBe(record.title);
  expect(await call(bot.page, 'record', created.shareId)).toMatchObject({ error: true, code: 'moved', status: 410 });
  expect(await call(bot.page, 'sharesOnDevice')).toEqual([]);
});
