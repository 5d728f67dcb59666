import { defineConfig } from '@playwright/test';

const port = Number(process.env.PORT ?? 4173);

/** The user agent of Chromium 156 run by a person (headless Chromium says HeadlessChrome). */
export const PERSON_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

// Debian's Chromium (browsers cannot be downloaded here); as root it needs --no-sandbox.
// Pages look like a person's browser to the relay's scanner checks (PROTOCOL.md
// §12.4): no `navigator.webdriver` (AutomationControlled off) and a non-headless
// user agent. The scanner specs launch a browser without these to look like one.
export default defineConfig({
  testDir: 'specs',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    userAgent: PERSON_UA,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-blink-features=AutomationControlled'],
    },
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
