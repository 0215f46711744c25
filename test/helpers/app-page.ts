// The browser app under test: `voxgrad serve` on a free port and a chromium page on it that records
// console errors and every request outside the app's origin (blob: URLs the page made itself, such
// as the wasm thread pool's worker script, count as its own).
import { type ChildProcess, spawn } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.ts';
import { repoRoot } from './fixtures.ts';

export interface AppSession { browser: Browser; page: Page; url: string; errors: string[]; foreign: string[]; close(): Promise<void> }

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [`${repoRoot}dist/cli.js`, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (d) => {
      const m = String(d).match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) ok(m[0]);
    });
    child.once('exit', (code) => fail(new Error(`voxgrad serve exited (${code})`)));
  });
  return { child, url };
}

/** The app loaded and ready (its models listed, its backend chosen). */
export async function openApp(): Promise<AppSession> {
  const { child, url } = await startServer();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage({ acceptDownloads: true });
  const errors: string[] = [], foreign: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith(`blob:${url}`)) foreign.push(r.url()); });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  return { browser, page, url, errors, foreign, close: async () => { await browser.close(); child.kill('SIGINT'); } };
}

/** Switches the page's backend and waits until it is in use. */
export async function useBackend(page: Page, backend: string) {
  await page.evaluate(() => { delete document.body.dataset.backend; });
  await openPanel(page, 'panel-backend');
  await page.selectOption('#backend', backend);
  await page.waitForSelector(`body[data-backend="${backend}"]`, { timeout: 60_000 });
}

/** Opens one of the page's collapsible control panels as a user would, by its heading. */
export async function openPanel(page: Page, id: string) {
  if (!(await page.evaluate((panel) => (document.getElementById(panel) as HTMLDetailsElement).open, id))) await page.click(`#${id} > summary`);
}
