/**
 * The HTML reports in headless Chromium, opened from file:// with JavaScript off and the
 * network offline: the verdict renders first, the charts exist with a size and data, and no
 * request leaves the page (every request is routed, and the page's own CSP is bypassed so it
 * cannot hide one). Hostile tensor names are checked with JavaScript on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDiagnoseHtml, renderVerifyHtml } from '../../host/report/html';
import type { DiagnoseReport, VerifyReport } from '../../host/report/model';
import { diagnoseBoardFault, diagnoseQuantizationLoss } from '../fixtures/report/diagnose';
import { verifyHostile, verifyInputError, verifyMatch, verifyMismatch, verifyRunFailed } from '../fixtures/report/verify';
import { startBrowser, type Browser } from './chromium';
import type { DomDocument, DomElement, DomStyle } from './dom-types';

// Browser globals, for the callbacks that run inside Chromium.
declare const document: DomDocument;
declare function getComputedStyle(el: DomElement): DomStyle;

let tmp: string;
let browser: Browser;
let page: Page;
/** Every request that was not for a local file, from any page of this file. */
const leaks: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-html-'));
  browser = await startBrowser({ javaScriptEnabled: false, bypassCSP: true });
  await browser.context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    leaks.push(url);
    return route.abort();
  });
  browser.context.on('request', (req) => {
    if (!req.url().startsWith('file:')) leaks.push(req.url());
  });
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('websocket', (ws) => leaks.push(ws.url()));
});
afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function open(name: string, html: string, on: Page = page): Promise<void> {
  const file = path.join(tmp, `${name}.html`);
  writeFileSync(file, html);
  await on.goto(pathToFileURL(file).href, { waitUntil: 'load' });
}

async function size(selector: string): Promise<{ width: number; height: number }> {
  const box = await page.locator(selector).first().boundingBox();
  return { width: box?.width ?? 0, height: box?.height ?? 0 };
}

/** What the page loads or could load: scripts, sources, links out, CSS urls. */
function externalRefs(): Promise<string[]> {
  return page.evaluate(() => {
    const refs: string[] = [];
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (a.name.startsWith('on')) refs.push(`${el.tagName} ${a.name}`);
        if (['src', 'srcset', 'action', 'poster', 'data'].includes(a.name)) refs.push(`${el.tagName} ${a.name}=${a.value}`);
        if ((a.name === 'href' || a.name === 'xlink:href') && !a.value.startsWith('#')) refs.push(`${el.tagName} ${a.name}=${a.value}`);
      }
      if (['SCRIPT', 'LINK', 'IFRAME', 'OBJECT', 'EMBED', 'IMG'].includes(el.tagName)) refs.push(el.tagName);
    }
    for (const style of document.querySelectorAll('style')) if (/url\(|@import/.test(style.textContent ?? '')) refs.push('css url');
    return refs;
  });
}

const pages: [string, VerifyReport | DiagnoseReport][] = [
  ['verify-match', verifyMatch],
  ['verify-mismatch', verifyMismatch],
  ['verify-input-error', verifyInputError],
  ['verify-run-failed', verifyRunFailed],
  ['verify-hostile', verifyHostile],
  ['diagnose-quantization-loss', diagnoseQuantizationLoss],
  ['diagnose-board-fault', diagnoseBoardFault],
];

describe('every report page', () => {
  it.each(pages)('%s is self-contained: nothing to fetch, no request made, no script', async (name, r) => {
    const html = r.kind === 'verify' ? renderVerifyHtml(r) : renderDiagnoseHtml(r);
    expect(html).not.toMatch(/https?:\/\//);
    await open(name, html);
    expect(await externalRefs()).toEqual([]);
    expect(leaks).toEqual([]);
    // The verdict is the first thing on the page.
    expect(await page.evaluate(() => document.body.firstElementChild?.id)).toBe('verdict');
  });
});

describe('renderVerifyHtml', () => {
  it('shows the verdict big and coloured, with the summary and the advice', async () => {
    await open('match', renderVerifyHtml(verifyMatch));
    const matchColour = await page.locator('#verdict-label').evaluate((el) => getComputedStyle(el).color);
    await open('mismatch', renderVerifyHtml(verifyMismatch));
    expect(await page.locator('#verdict-label').textContent()).toBe('MISMATCH');
    const label = await page.locator('#verdict-label').evaluate((el) => ({ colour: getComputedStyle(el).color, px: parseFloat(getComputedStyle(el).fontSize) }));
    expect(label.colour).not.toBe(matchColour);
    expect(label.px).toBeGreaterThanOrEqual(30);
    expect(await page.locator('#verdict .summary').textContent()).toBe(verifyMismatch.summary);
    expect(await page.locator('#verdict ul.advice li').allTextContents()).toEqual(verifyMismatch.advice);
    expect(await page.locator('#verdict .compile-note').textContent()).toContain('compile stage ok');
    const headerBottom = (await page.locator('#verdict').boundingBox())!;
    const table = (await page.locator('#outputs').boundingBox())!;
    expect(headerBottom.y + headerBottom.height).toBeLessThanOrEqual(table.y);
  });

  it('has a table row per output and, per output, a scatter with points and a histogram', async () => {
    await open('mismatch', renderVerifyHtml(verifyMismatch));
    expect(await page.locator('table').first().locator('tbody tr').count()).toBe(3);
    expect(await page.locator('tr.failed td.fail').allTextContents()).toEqual(['FAIL']);
    for (const [i, o] of verifyMismatch.outputs.entries()) {
      const scatter = `#output-${i}-scatter`;
      expect(await size(scatter)).toEqual({ width: expect.toSatisfy((w: number) => w > 100), height: expect.toSatisfy((h: number) => h > 100) });
      expect(await page.locator(`${scatter} > title`).textContent()).toBe(`Board vs simulator: ${o.name}`);
      expect(await page.locator(`${scatter} circle.pt`).count()).toBeGreaterThan(10);
      expect(await page.locator(`${scatter} line.diag`).count()).toBe(1);
      const histogram = `#output-${i}-histogram`;
      expect((await size(histogram)).height).toBeGreaterThan(100);
      expect(await page.locator(`${histogram} rect.bar`).count()).toBe(o.plot!.histogram.counts.length);
    }
    // The failed output marks its outside-tolerance points and rings the worst element.
    expect(await page.locator('#output-0-scatter circle.pt.bad').count()).toBeGreaterThan(10);
    expect(await page.locator('#output-0-scatter circle.worst').count()).toBe(1);
    expect(await page.locator('#output-1-scatter circle.pt.bad').count()).toBe(0);
    expect(await page.locator('#output-0').textContent()).toContain('board 2.614, simulator -0.8237');
  });

  it('puts the fallback first for input-error and the assertion for run-failed', async () => {
    await open('input-error', renderVerifyHtml(verifyInputError));
    expect(await page.locator('#fallbacks').textContent()).toContain('data (gt/input/data.bin): data size wrong');
    expect(await page.locator('#fallbacks h2').textContent()).toBe('Inputs run_joint replaced with random data');
    const refused = { ...verifyInputError, run: { ...verifyInputError.run, exitCode: null, signal: null, timedOut: false, timing: { ...verifyInputError.run.timing, wallMs: 0 } } };
    await open('input-refused', renderVerifyHtml(refused));
    expect(await page.locator('#fallbacks h2').textContent()).toBe('Inputs refused before the run (run_joint would have used random data)');
    expect(await page.locator('#fallbacks').textContent()).toContain('Nothing was run');
    await open('run-failed', renderVerifyHtml(verifyRunFailed));
    expect(await page.locator('#verdict-label').textContent()).toBe('RUN FAILED');
    expect(await page.locator('#assertions pre').textContent()).toContain("Assertion `0 == ret' failed.");
    expect(await page.locator('svg.chart').count()).toBe(0);
  });

  it('reads in dark mode and prints the whole log', async () => {
    await open('mismatch', renderVerifyHtml(verifyMismatch));
    const luminance = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor.match(/\d+/g)!.slice(0, 3).reduce((s, v) => s + Number(v), 0));
    expect(await luminance()).toBeGreaterThan(600);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await luminance()).toBeLessThan(150);
    await page.emulateMedia({ colorScheme: 'light', media: 'print' });
    expect(await page.locator('pre.log').first().evaluate((el) => getComputedStyle(el).maxHeight)).toBe('none');
    await page.emulateMedia({ media: 'screen' });
  });
});

describe('renderDiagnoseHtml', () => {
  it('charts the layers worst first with the 0.98 threshold, and the stages', async () => {
    await open('quantization-loss', renderDiagnoseHtml(diagnoseQuantizationLoss));
    expect(await page.locator('#verdict-label').textContent()).toBe('QUANTIZATION LOSS');
    expect(await page.locator('#verdict ul.advice li').count()).toBe(diagnoseQuantizationLoss.remedies.length);
    const layers = diagnoseQuantizationLoss.layers;
    expect((await size('#layers-chart')).height).toBeGreaterThan(200);
    expect(await page.locator('#layers-chart > title').textContent()).toBe('Per-layer cosine, worst first');
    expect(await page.locator('#layers-chart g.layer').count()).toBe(layers.length);
    expect(await page.locator('#layers-chart g.layer text.name').first().textContent()).toBe('resnetv15_stage4_conv3_fwd');
    expect(await page.locator('#layers-chart g.layer.lossy').count()).toBe(layers.filter((l) => l.cosine < 0.98).length);
    expect(await page.locator('#layers-chart .threshold line').count()).toBe(1);
    // Bars are drawn to scale: the worst layer's bar is the shortest.
    const widths = await page.locator('#layers-chart g.layer rect.bar').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('width'))));
    expect(Math.min(...widths)).toBe(widths[0]);
    expect((await size('#stages-chart')).width).toBeGreaterThan(300);
    expect(await page.locator('#stages-chart g.stage.lossy').count()).toBe(2);
  });

  it('lists the checks with their status and reasons, the findings with file:line, and the board run', async () => {
    await open('quantization-loss', renderDiagnoseHtml(diagnoseQuantizationLoss));
    const rows = await page.locator('#checks + table tbody tr').allTextContents();
    expect(rows).toHaveLength(10);
    expect(rows[0]).toContain('skipped');
    expect(rows[0]).toContain('--reference-accuracy');
    expect(await page.locator('ul.findings li').first().textContent()).toContain('config/resnet18.prototxt:23 warning [CALIB_PER_CHANNEL]');
    expect(await page.locator('#verify-output-0-scatter circle.pt').count()).toBeGreaterThan(10);
  });

  it('asks for escalation on a board fault and shows unmeasured stages as such', async () => {
    await open('board-fault', renderDiagnoseHtml(diagnoseBoardFault));
    expect(await page.locator('#escalation li').count()).toBe(4);
    expect(await page.locator('#stages-chart text.na').count()).toBe(3);
    expect(await page.locator('#layers-chart').count()).toBe(0);
  });
});

describe('hostile strings, with JavaScript on', () => {
  let jsBrowser: Browser;
  let jsPage: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    jsBrowser = await startBrowser({ javaScriptEnabled: true, bypassCSP: true });
    jsPage = jsBrowser.context.pages()[0] ?? (await jsBrowser.context.newPage());
    jsPage.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });
  afterAll(async () => {
    await jsBrowser?.close();
  });

  it('render tensor names, paths and logs as text, never as markup', async () => {
    await open('hostile', renderVerifyHtml(verifyHostile), jsPage);
    expect(dialogs).toEqual([]);
    const tags = await jsPage.evaluate(() => [...document.querySelectorAll('script, img, b, iframe')].map((e) => e.tagName));
    expect(tags).toEqual([]);
    expect(await jsPage.locator('#output-0 h3').textContent()).toContain('<script>alert(1)</script>');
    expect(await jsPage.locator('table tbody tr td.name').first().textContent()).toBe('<script>alert(1)</script>');
    expect(await jsPage.locator('#verdict .summary').textContent()).toBe(verifyHostile.summary);
    expect(await jsPage.locator('#output-0-scatter > title').textContent()).toBe('Board vs simulator: <script>alert(1)</script>');
    const log = await jsPage.locator('#log + pre.log').textContent();
    expect(log).toContain('NUL ␀ and ESC red and BEL ␇ and ]]> and </pre><script>alert(4)</script>');
  });
});
