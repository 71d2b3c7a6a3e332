// SPDX-License-Identifier: Apache-2.0
// Debian's chromium, headless, driven by puppeteer-core; screenshots of each view go to
// tests/browser/screenshots/ (not committed) so a failure can be looked at.
import puppeteer from "puppeteer-core";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = process.env.SPOOLD_SCREENSHOTS || path.join(HERE, "..", "screenshots");

export async function launch() {
  const profile = await mkdtemp(path.join(os.tmpdir(), "spoold-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userDataDir: profile,
    // No network but loopback here: keep Chromium from reaching for Google's services.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
      "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => { await close(); await rm(profile, { recursive: true, force: true }); };
  return browser;
}

// A page that fails the test on any uncaught script error or CSP violation.
export async function newPage(browser, errors) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return page;
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// Waits until the main area's text contains every one of texts.
// On a time-out the error carries what the page showed (and its error banner).
export async function waitForText(page, selector, ...texts) {
  try {
    await page.waitForFunction((sel, want) => {
      const el = document.querySelector(sel);
      return el && want.every((t) => el.innerText.includes(t));
    }, { polling: 200 }, selector, texts);
  } catch (e) {
    const shown = await page.evaluate((sel) => {
      const el = document.querySelector(sel);
      const banner = document.getElementById("banner");
      return `${sel}: ${el ? el.innerText : "(absent)"}\nbanner: ${banner ? banner.innerText : ""}`;
    }, selector).catch(() => "(page gone)");
    e.message = `waiting for ${JSON.stringify(texts)} in ${selector}: ${e.message}\n${shown}`;
    throw e;
  }
}

// Fills the form fields named in values (inputs and selects) of the form matched by selector,
// then submits it.
export async function submitForm(page, selector, values) {
  await page.waitForSelector(selector);
  for (const [name, value] of Object.entries(values)) {
    const field = `${selector} [name="${name}"]`;
    const tag = await page.$eval(field, (el) => el.tagName);
    if (tag === "SELECT") await page.select(field, value);
    else {
      await page.$eval(field, (el) => { el.value = ""; });
      await page.type(field, value);
    }
  }
  await page.click(`${selector} button[type=submit]`);
}
