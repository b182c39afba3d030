// Test support: an HTML report as a person sees it, in headless Chromium
// driven through playwright-core (Debian's chromium; playwright downloads no
// browser). Each report is opened from a file, a full-page screenshot is
// saved under .kura/screenshots/, and checks read the layout (where an
// element is drawn, whether it is visible and not covered) and the pixels of
// the screenshot (which colours an element is drawn with).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from './packaged-template.ts';

export const SCREENSHOTS = join(ROOT, '.kura', 'screenshots');

/** Headless Chromium with a fresh profile (playwright makes a new user-data-dir per launch), offline. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The report opened from a file in a 1280×900 window, and the path of its full-page screenshot. */
export async function openReport(
  browser: Browser,
  html: string,
  name: string,
): Promise<{ page: Page; screenshot: Buffer; file: string }> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const htmlFile = join(SCREENSHOTS, `${name}.html`);
  writeFileSync(htmlFile, html);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
  const file = join(SCREENSHOTS, `${name}.png`);
  const screenshot = await page.screenshot({ path: file, fullPage: true });
  return { page, screenshot, file };
}

export interface Layout {
  /** Box in CSS pixels after layout. */
  width: number;
  height: number;
  /** Displayed, not hidden, not transparent, and the element itself is what shows at its centre. */
  visible: boolean;
  text: string;
}

/** Where the first element matching `selector` is drawn, after scrolling it into view. */
export async function layoutOf(page: Page, selector: string): Promise<Layout> {
  return page
    .locator(selector)
    .first()
    .evaluate((node) => {
      // Runs in the page (tsconfig has no DOM types for Node code).
      const win = globalThis as any;
      node.scrollIntoView({ block: 'center' });
      const r = node.getBoundingClientRect();
      const style = win.getComputedStyle(node);
      const atCentre = win.document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      const shown =
        style.display !== 'none' &&
        style.visibility === 'visible' &&
        Number(style.opacity) > 0 &&
        atCentre !== null &&
        (node === atCentre || node.contains(atCentre));
      return { width: r.width, height: r.height, visible: shown, text: node.textContent ?? '' };
    });
}

/**
 * How many pixels of the element's screenshot are drawn in each of the
 * given colours (#rrggbb, within a small distance for anti-aliasing), and
 * how many pixels it has in all. The PNG is decoded by the browser itself.
 */
export async function pixelsOf(
  page: Page,
  selector: string,
  colours: Record<string, string>,
): Promise<{ total: number } & Record<string, number>> {
  // The element's box on screen, hidden or covered as it may be: a person sees what is drawn there.
  const clip = await page
    .locator(selector)
    .first()
    .evaluate((node) => {
      node.scrollIntoView({ block: 'center' });
      const r = node.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
  const png = await page.screenshot({ clip });
  // Decoded in the page itself: the image and canvas are never attached to it.
  return page.evaluate(
    async ({ src, colours }) => {
      const win = globalThis as any;
      const img = new win.Image();
      img.src = src;
      await img.decode();
      const canvas = new win.OffscreenCanvas(img.width, img.height);
      const g = canvas.getContext('2d');
      if (!g) throw new Error('no 2d canvas');
      g.drawImage(img, 0, 0);
      const data: Uint8ClampedArray = g.getImageData(0, 0, img.width, img.height).data;
      const want = Object.entries(colours).map(([k, hex]) => {
        const n = Number.parseInt(hex.slice(1), 16);
        return { k, r: n >> 16, g: (n >> 8) & 255, b: n & 255 };
      });
      const out: { total: number } & Record<string, number> = { total: img.width * img.height };
      for (const w of want) out[w.k] = 0;
      for (let i = 0; i < data.length; i += 4) {
        for (const w of want) {
          const d =
            Math.abs((data[i] ?? 0) - w.r) +
            Math.abs((data[i + 1] ?? 0) - w.g) +
            Math.abs((data[i + 2] ?? 0) - w.b);
          if (d <= 24) out[w.k] = (out[w.k] ?? 0) + 1;
        }
      }
      return out;
    },
    { src: `data:image/png;base64,${png.toString('base64')}`, colours },
  );
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
