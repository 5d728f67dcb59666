import { defineConfig } from '@playwright/test';

const port = Number(process.env.PORT ?? 4173);

// Debian's Chromium (browsers cannot be downloaded here); as root it needs --no-sandbox.
export default defineConfig({
  testDir: 'specs',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: { executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] },
  },
  webServer: {
    command: 'node serve.mjs',
    url: `http://127.0.0.1:${port}/v1/relay-key`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
