#!/usr/bin/env node
/**
 * Renders web/public/icon.svg into the PNG icons installs need (Android's
 * 192 and 512, a maskable 512 whose artwork sits inside the 80% safe zone,
 * and iOS's 180 apple-touch-icon) with Debian's Chromium, and writes them
 * to web/public. Run after changing the SVG (`node scripts/icons.mjs`); the
 * PNGs are committed, so neither builds nor installs need a browser.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { locate } from './prereqs.mjs';

const svg = readFileSync(new URL('../web/public/icon.svg', import.meta.url), 'utf8');
const data = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
const BACKGROUND = '#1d4e89';

const icons = [
  { file: 'icon-192.png', size: 192, inset: 0 },
  { file: 'icon-512.png', size: 512, inset: 0 },
  // Maskable: launchers crop to a circle or squircle; the artwork stays in the middle 80%.
  { file: 'icon-maskable-512.png', size: 512, inset: 0.1, fill: true },
  // iOS rounds the corners itself and shows transparency as black: a full square.
  { file: 'apple-touch-icon.png', size: 180, inset: 0, fill: true },
];

const path = locate('chromium', { envVar: 'CHROMIUM_PATH' });
if (!path) throw new Error('Chromium is needed to render the icons: sudo apt-get install -y chromium');
const browser = await chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const page = await browser.newPage();
  for (const { file, size, inset, fill } of icons) {
    await page.setViewportSize({ width: size, height: size });
    const pad = Math.round(size * inset);
    await page.setContent(
      `<html><body style="margin:0;background:${fill ? BACKGROUND : 'transparent'}">` +
        `<img src="${data}" style="display:block;margin:${pad}px;width:${size - 2 * pad}px;height:${size - 2 * pad}px"></body></html>`,
    );
    await page.waitForFunction(() => document.images[0]?.complete);
    const png = await page.screenshot({ omitBackground: !fill, clip: { x: 0, y: 0, width: size, height: size } });
    writeFileSync(new URL(`../web/public/${file}`, import.meta.url), png);
    console.log(`web/public/${file}: ${size}×${size}, ${png.length} bytes`);
  }
} finally {
  await browser.close();
}
