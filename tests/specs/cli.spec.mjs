// Interop between the `oneshare` CLI (native core) and @oneshare/sdk in Chromium
// (wasm core + WebCrypto), both ways, through the same relay: a CLI-made link
// opened in the browser, a browser-made link opened by the CLI. `cargo xtask`
// sets ONESHARE_CLI_BIN to the built binary.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

const cli = process.env.ONESHARE_CLI_BIN;
const relay = `http://127.0.0.1:${Number(process.env.PORT ?? 4173)}`;

/** Runs the CLI as one machine (its own config and data directories). */
function oneshare(home, args, input = '') {
  const env = { ...process.env, ONESHARE_CONFIG_HOME: join(home, 'config'), ONESHARE_DATA_HOME: join(home, 'data') };
  delete env.ONESHARE_RELAY;
  return execFileSync(cli, ['--quiet', ...args], { input, env }).toString();
}

async function device(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('status')).toHaveText('loaded');
  await page.evaluate(() => window.app.init());
  await expect(page.getByRole('status')).toHaveText('ready');
  return page;
}

const call = (page, name, ...args) => page.evaluate(([n, a]) => window.app[n](...a), [name, args]);

let home;
test.beforeAll(() => {
  expect(cli, 'ONESHARE_CLI_BIN must name the oneshare binary').toBeTruthy();
  home = mkdtempSync(join(tmpdir(), 'oneshare-cli-'));
});
test.afterAll(() => rmSync(home, { recursive: true, force: true }));

test('a link made by the CLI opens in the browser, attachment included', async ({ browser }) => {
  const sender = join(home, 'sender');
  oneshare(sender, ['init', '--relay', relay]);
  const file = join(home, 'report.bin');
  const bytes = randomBytes(2 * 65536 + 777);
  writeFileSync(file, bytes);
  const created = JSON.parse(
    oneshare(
      sender,
      ['create', '--title', 'From the terminal', '--login', 'ops', '--password-stdin', '--field', 'PIN=4321', '--file', file, '--json'],
      'hunter2 from stdin\n',
    ),
  );
  expect(created.link).toMatch(/\/s#[A-Za-z0-9_-]{43}$/);

  const page = await device(browser);
  const opened = await call(page, 'open', created.link, created.open_code);
  expect(opened.error).toBeUndefined();
  expect(opened.shareId).toBe(created.share_id);
  expect(opened.record.title).toBe('From the terminal');
  expect(opened.record.fields).toEqual([
    { type: 'login', value: 'ops' },
    { type: 'password', value: 'hunter2 from stdin' },
    { type: 'custom', label: 'PIN', value: '4321' },
  ]);
  const [meta] = opened.record.attachments;
  expect(meta).toMatchObject({ name: 'report.bin', size: bytes.length });
  const got = await call(page, 'download', opened.shareId, meta.id);
  expect(got).toMatchObject({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });

  // The CLI owner sees the browser's bind.
  const [row] = JSON.parse(oneshare(sender, ['list', '--json']));
  expect(row).toMatchObject({ share_id: created.share_id, state: 'bound' });
});

test('a link made in the browser opens with the CLI, attachment included', async ({ browser }) => {
  const page = await device(browser);
  const record = {
    title: 'From the browser',
    fields: [
      { type: 'url', value: 'https://db.example' },
      { type: 'password', value: 'correct horse battery staple' },
    ],
  };
  const created = await call(page, 'create', { record, attachmentSize: 3 * 65536 + 5, label: 'for the CLI' });
  expect(created.error).toBeUndefined();

  const recipient = join(home, 'recipient');
  const save = join(home, 'saved');
  const opened = JSON.parse(oneshare(recipient, ['open', created.link, '--json', '--save-dir', save]));
  expect(opened.share_id).toBe(created.shareId);
  expect(opened.record.title).toBe('From the browser');
  expect(opened.record.fields).toEqual(record.fields);
  const saved = readFileSync(join(save, 'data.bin'));
  expect(createHash('sha256').update(saved).digest('hex')).toBe(created.sha256);
  expect(oneshare(recipient, ['open', created.link, '--field', 'password'])).toBe('correct horse battery staple\n');

  // A second browser is refused: the CLI holds the share.
  const other = await device(browser);
  expect(await call(other, 'open', created.link)).toMatchObject({ error: true, code: 'already_bound' });
});
