import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../../../..');
const WEB_ROOT = resolve(REPO_ROOT, 'packages/web');
export const SCREENSHOT_DIR = resolve(REPO_ROOT, 'artifacts/screenshots');
export const CHROMIUM = process.env.BATON_CHROMIUM ?? '/usr/bin/chromium';

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Builds the web apps when dist is missing or older than their sources (core included: it runs in the
 * browser). Test files run in parallel workers, so the build is serialized with flock and re-checked.
 */
export function ensureWebBuild(): void {
  const marker = join(WEB_ROOT, 'dist/console/index.html');
  const stale = () => {
    if (!existsSync(marker)) return true;
    const built = statSync(marker).mtimeMs;
    const sources = Math.max(
      newestMtime(join(WEB_ROOT, 'src')),
      newestMtime(join(REPO_ROOT, 'packages/core/src')),
      newestMtime(join(WEB_ROOT, 'vite.config.ts')),
    );
    return sources > built;
  };
  if (!stale()) return;
  execFileSync('flock', [join(tmpdir(), 'baton-web-build.lock'), 'sh', '-c', 'npm run build:web --silent'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    timeout: 180_000,
    // vitest sets NODE_ENV=test; the apps must be the production build the server ships.
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** One Chromium per person (customer, agent…): separate profiles, so nothing is shared but the server. */
export async function openBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'baton-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: options.viewport ?? { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Fail fast and say where: a locator that never appears should not eat the whole test timeout.
  context.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => console.error(`[browser] ${error.stack ?? error.message}`));
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

export async function loginToConsole(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('agent-name').waitFor();
}

/** Writes on the customer chat page as a person would: type, press Enter, see it appear. */
export async function customerSays(page: Page, text: string): Promise<void> {
  await page.getByLabel('Your message').fill(text);
  await page.getByLabel('Your message').press('Enter');
  await page.getByTestId('chat-log').getByText(text, { exact: true }).last().waitFor();
}
