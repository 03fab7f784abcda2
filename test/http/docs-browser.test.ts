import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../support/databases.js';
import { startService, type Service } from '../support/service.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results');

/** Debian's chromium; installed here when missing and we may (root), never downloaded by Playwright. */
function findChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'ignore', timeout: 600_000 });
    } catch {
      return undefined;
    }
  }
  return existsSync(CHROMIUM) ? CHROMIUM : undefined;
}

/**
 * The Gan Shmuel frontend's nginx in miniature, on loopback: only
 * `/api/providers/...` is routed, to the service with the prefix stripped
 * (`proxy_pass http://service/;`); any other path is 404, so a page that
 * reaches for an absolute path breaks here as it does there.
 */
async function prefixStrippingProxy(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const PREFIX = '/api/providers/';
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith(PREFIX)) {
      res.writeHead(404).end();
      return;
    }
    const upstream = http.request(`${target}/${req.url.slice(PREFIX.length)}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const executablePath = findChromium();
const [engine] = await testEngines();

describe('/docs in headless Chromium', () => {
  if (!executablePath || !engine) {
    it.skip(`skipped: ${CHROMIUM} is missing and could not be installed (apt-get install chromium needs root)`, () => {});
    return;
  }
  let s: Service;
  let base: string;
  let proxy: Awaited<ReturnType<typeof prefixStrippingProxy>>;
  beforeAll(async () => {
    s = await startService(engine);
    base = await s.app.listen({ host: '127.0.0.1', port: 0 });
    proxy = await prefixStrippingProxy(base);
  });
  afterAll(async () => {
    await proxy.close();
    await s.close();
  });

  it.each([
    ['directly', () => base, '/docs', 'docs.png'],
    ['behind a proxy that serves it under /api/providers/', () => proxy.url, '/api/providers/docs', 'docs-behind-proxy.png'],
  ])('renders every endpoint %s, offline (no request leaves this host); screenshot in test-results/', async (_how, origin, path, shot) => {
    const from = origin();
    const browser = await chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      await page.goto(`${from}${path}`);
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
      for (const p of ['/candidates', '/candidates/{candidate_id}', '/candidates/{candidate_id}/approve', '/candidates/{candidate_id}/reject', '/auth/login', '/health']) {
        expect(paths.map((x) => x.replace(/\u200b/g, ''))).toContain(p);
      }
      expect(await page.textContent('.title')).toContain('Gan Shmuel Provider Registration Service');
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
      expect(requested.filter((u) => !u.startsWith(`${from}${path}`) && !u.startsWith('data:'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
