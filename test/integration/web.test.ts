// The web page in a real browser (Debian's headless Chromium driven by
// playwright-core) against the whole system. Screenshots go to
// test/artifacts/ to be looked at.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevEnvironment, startDevEnvironment } from '../dev-environment/environment.ts';

const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
const chromiumPath = process.env.VDL_CHROMIUM ?? '/usr/bin/chromium';
let env: DevEnvironment;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  env = await startDevEnvironment({
    dir: mkdtempSync(join(tmpdir(), 'vdl-web-')),
    namespace: 'web',
    maxActiveDownloads: 3,
  });
  // Fails loudly when Chromium is missing: .ci/run installs Debian's chromium.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
  page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(env.apiUrl);
  await page.getByLabel('API key', { exact: true }).fill(env.apiKey);
  await page.getByRole('button', { name: 'Save' }).click();
  // All assets come from the API itself.
  expect(requests.every((url) => url.startsWith(env.apiUrl))).toBe(true);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await env?.stop();
});

const row = (text: string) => page.locator('li.download', { hasText: text });

describe('web page', () => {
  it('submits a URL, shows the progress bar reach 100, and saves the same bytes', async () => {
    const url = `${env.media.url}/throttled-web.mp4`;
    // Every value the page gives the bar, recorded by the page itself as it
    // renders (not sampled from outside, which a busy machine can make miss all but the last).
    await page.evaluate(`
      window.progressSeen = [];
      new MutationObserver((records) => {
        for (const { target } of records)
          if (target instanceof HTMLProgressElement)
            window.progressSeen.push([target.closest('li')?.querySelector('.url')?.textContent ?? '', target.value]);
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['value'] });
    `);
    await page.getByLabel('Video URL', { exact: true }).fill(url);
    await page.getByRole('button', { name: 'Download' }).click();
    const item = row('throttled-web.mp4');
    await item.locator('.state', { hasText: 'IN_PROGRESS' }).waitFor({ timeout: 60_000 });
    await expect
      .poll(async () => Number(await item.locator('progress').getAttribute('value')), { timeout: 60_000 })
      .toBe(100);
    const values = ((await page.evaluate('window.progressSeen')) as Array<[string, number]>)
      .filter(([shown]) => shown === url)
      .map(([, value]) => value);
    // The bar showed figures between 0 and 100 on its way, not only the end.
    expect(
      values.some((value) => value > 0 && value < 100),
      JSON.stringify(values),
    ).toBe(true);
    await item.locator('.state', { hasText: 'DONE' }).waitFor();
    await page.screenshot({ path: join(artifacts, 'web-done.png'), fullPage: true });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      item.getByRole('button', { name: 'Save file' }).click(),
    ]);
    const saved = readFileSync((await download.path()) as string);
    const source = readFileSync(env.media.file('large.mp4'));
    expect(createHash('sha256').update(saved).digest('hex')).toBe(
      createHash('sha256').update(source).digest('hex'),
    );
  });

  it('shows why a download failed', async () => {
    await page.getByLabel('Video URL', { exact: true }).fill(`${env.media.url}/missing.mp4`);
    await page.getByRole('button', { name: 'Download' }).click();
    const message = row('missing.mp4').locator('.message');
    await message.waitFor({ state: 'visible', timeout: 60_000 });
    expect(await message.textContent()).toMatch(/^NotFound: /);
  });

  it('refuses a forbidden address with a clear message, before anything starts', async () => {
    const before = await page.locator('li.download').count();
    await page.getByLabel('Video URL', { exact: true }).fill('http://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Download' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toMatch(/forbidden address/);
    expect(await page.locator('li.download').count()).toBe(before);
    await page.screenshot({ path: join(artifacts, 'web-error.png'), fullPage: true });
  });

  it('cancels a running download', async () => {
    await page.getByLabel('Video URL', { exact: true }).fill(`${env.media.url}/throttled-cancel-web.mp4`);
    await page.getByRole('button', { name: 'Download' }).click();
    const item = row('throttled-cancel-web.mp4');
    await item.locator('.state', { hasText: 'IN_PROGRESS' }).waitFor({ timeout: 60_000 });
    await item.getByRole('button', { name: 'Cancel' }).click();
    await item.waitFor({ state: 'detached' });
    // The download itself is gone, not only its row.
    await expect
      .poll(
        async () => {
          const response = await fetch(`${env.apiUrl}/downloads`, {
            headers: { authorization: `Bearer ${env.apiKey}` },
          });
          const { items } = (await response.json()) as { items: Array<{ url: string }> };
          return items.some((i) => i.url.endsWith('throttled-cancel-web.mp4'));
        },
        { timeout: 30_000 },
      )
      .toBe(false);
  });

  it('drops the row of a download deleted elsewhere, told over the WebSocket', async () => {
    await page.getByLabel('Video URL', { exact: true }).fill(`${env.media.url}/throttled-deleted-web.mp4`);
    await page.getByRole('button', { name: 'Download' }).click();
    const item = row('throttled-deleted-web.mp4');
    await item.locator('.state', { hasText: 'IN_PROGRESS' }).waitFor({ timeout: 60_000 });
    const id = await item.getAttribute('data-id');
    // Another client (another tab, curl) deletes it: the page hears it as a "deleted" message.
    const response = await fetch(`${env.apiUrl}/downloads/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${env.apiKey}` },
    });
    expect(response.status).toBe(202);
    await item.waitFor({ state: 'detached', timeout: 60_000 });
  });

  it('keeps following a download across an API restart', async () => {
    await page.getByLabel('Video URL', { exact: true }).fill(`${env.media.url}/throttled-restart-web.mp4`);
    await page.getByRole('button', { name: 'Download' }).click();
    const item = row('throttled-restart-web.mp4');
    await item.locator('.state', { hasText: 'IN_PROGRESS' }).waitFor({ timeout: 60_000 });
    // The socket breaks; the page reconnects and resubscribes on its own.
    await env.restartApi();
    await item.locator('.state', { hasText: 'DONE' }).waitFor({ timeout: 60_000 });
  });

  it('is usable with the keyboard alone', async () => {
    await page.getByLabel('Video URL', { exact: true }).focus();
    await page.keyboard.type(`${env.media.url}/progressive.mp4`);
    await page.keyboard.press('Enter');
    await row('progressive.mp4').locator('.state', { hasText: 'DONE' }).waitFor({ timeout: 60_000 });
    await page.keyboard.press('Tab');
    const focused = await page.evaluate('document.activeElement?.tagName');
    expect(['INPUT', 'SELECT', 'BUTTON']).toContain(focused as string);
  });
});
