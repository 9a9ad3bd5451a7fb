// Shared harness for the browser tests: Debian's Chromium driven by
// playwright-core against the service at BASE_URL (set by scripts/with-server.mjs).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before } from "node:test";
import jsQR from "jsqr";
import * as OTPAuth from "otpauth";
import { chromium } from "playwright-core";

export const BASE_URL = (process.env.BASE_URL ?? "").replace(/\/$/, "");
if (!BASE_URL) throw new Error("BASE_URL is not set: run through `node scripts/with-server.mjs node --test test/browser/`");

export const PASSWORD = "correct horse battery staple";
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * `backForwardCache`: keep Chromium's back/forward cache on, as people's browsers have it. Playwright turns
 * it off by default, so a test of what Back shows after a logout would otherwise always pass.
 */
export function launch({ backForwardCache = false } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    ...(backForwardCache ? { ignoreDefaultArgs: ["--disable-back-forward-cache"] } : {}),
  });
}

/** One browser per test file, closed at the end. */
export function useBrowser() {
  const holder = { browser: null };
  before(async () => {
    holder.browser = await launch();
  });
  after(async () => {
    await holder.browser?.close();
  });
  return holder;
}

/**
 * Each context is a person on a network of their own: a random address from
 * the IPv6 documentation prefix, a /64 of its own (the service throttles
 * signups and logins per client address, IPv6 by /64, and the whole suite
 * signs up more people than one address may in a few minutes).
 */
function clientAddress() {
  const group = () => Math.floor(Math.random() * 0x10000).toString(16);
  return `2001:db8:${group()}:${group()}::1`;
}

/**
 * A fresh context (own cookies) and page. Clipboard access is granted so Copy
 * can be checked; page errors and CSP violations fail loudly in `problems`.
 * `locale` sets navigator.languages (the pages' language comes from it);
 * `colorScheme` sets prefers-color-scheme; `userAgent` replaces Chromium's own.
 */
export async function newPage(browser, { width = 1100, height = 900, locale = "en-US", colorScheme = "light", userAgent } = {}) {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    ...(userAgent ? { userAgent } : {}),
    viewport: { width, height },
    acceptDownloads: true,
    locale,
    colorScheme,
    extraHTTPHeaders: { "CF-Connecting-IP": clientAddress() },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE_URL });
  return watchedPage(context);
}

/** A new page in `context` whose script errors and CSP violations are collected in `page.problems`. */
export async function watchedPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(`pageerror: ${err.message}`));
  // Refusals the page explains in words (4xx) are expected; a 500 or a script error is not.
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of (400|401|403|404|409|429)/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  return page;
}

/** No script error and no CSP violation happened on the page. */
export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], "the page logged errors");
}

let counter = 0;
export function uniqueEmail(prefix = "user") {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 7)}@example.com`;
}

/** Signs up on the login page; the page logs straight in afterwards. */
export async function signUp(page, { name, email, password = PASSWORD, community }) {
  await page.goto("/");
  await page.getByRole("button", { name: "Create an account" }).click();
  const form = page.getByRole("region", { name: "Create an account" });
  await form.getByLabel("Your name").fill(name);
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password", { exact: true }).fill(password);
  if (community) await form.getByLabel(/Create a community/).fill(community);
  await form.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: `Hello, ${name}` }).waitFor();
}

/** Fills the login form; the caller waits for whatever comes next. */
export async function submitLogin(page, email, password = PASSWORD) {
  await page.goto("/");
  const form = page.getByRole("region", { name: "Log in" });
  await form.waitFor();
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Log in", exact: true }).click();
}

export async function logOut(page) {
  await page.getByRole("navigation").getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in" }).waitFor();
}

/**
 * Answers the page's password prompt when it asks for one. `until` is what the page shows when it does not
 * ask (the action's result): the prompt may appear only after a request, so "is it visible now?" right
 * after the click can answer no too early, and the test then waits on a result that waits on the prompt.
 * With `until`, whichever comes first decides.
 */
export async function confirmPasswordIfAsked(page, until, password = PASSWORD) {
  const dialog = page.getByRole("dialog", { name: "Confirm your password" });
  if (until) await dialog.or(until).first().waitFor();
  if (await dialog.isVisible()) {
    await dialog.getByLabel("Password").fill(password);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await dialog.waitFor({ state: "hidden" });
  }
}

/** Attaches a virtual authenticator to the page; every ceremony is answered with presence and verification. */
export async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
  };
}

// ---- TOTP codes from independent implementations (never our own) ----------

const used = new Map();

/**
 * A code for `secret` from a 30-second step this test has not used yet for that
 * secret (the service refuses a step at or before the last accepted one, RFC 6238
 * §5.2), waiting for the next step if needed. Computed by `otpauth`, and
 * cross-checked with the `oathtool` binary (.ci/run installs it; without it the test fails).
 */
export async function freshTOTP(secret) {
  const key = secret.replace(/\s+/g, "").toUpperCase();
  for (;;) {
    const step = Math.floor(Date.now() / 30_000);
    const remaining = 30_000 - (Date.now() % 30_000);
    // Too close to the end of a step, or step already used: wait for the next one.
    if ((used.get(key) ?? -1) < step && remaining > 3_000) {
      used.set(key, step);
      const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(key), digits: 6, period: 30, algorithm: "SHA1" }).generate({
        timestamp: step * 30_000,
      });
      assert.equal(code, oathtool(key, step), "otpauth and oathtool disagree");
      return code;
    }
    await new Promise((r) => setTimeout(r, remaining + 200));
  }
}

function oathtool(secret, step) {
  try {
    return execFileSync("oathtool", ["--totp", "--base32", "-d", "6", "-N", `@${step * 30}`, secret], { encoding: "utf8" }).trim();
  } catch (e) {
    throw new Error(`oathtool is needed to cross-check TOTP codes (apt-get install oathtool): ${e.message}`);
  }
}

export function readText(path) {
  return readFileSync(path, "utf8");
}

/**
 * The text of the QR code in a PNG screenshot, read by `jsqr` (an independent
 * reader). Chromium only turns the PNG into pixels, on a blank page of its own.
 */
export async function decodeQR(browser, png) {
  const page = await browser.newPage();
  try {
    const { width, height, pixels } = await page.evaluate(async (base64) => {
      const blob = await (await fetch(`data:image/png;base64,${base64}`)).blob();
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
      return { width: image.width, height: image.height, pixels: Array.from(image.data) };
    }, png.toString("base64"));
    return jsQR(Uint8ClampedArray.from(pixels), width, height)?.data ?? null;
  } finally {
    await page.close();
  }
}

/** A 6-digit code that is none of the codes around now for `secret`, so it is surely refused. */
export function wrongTOTP(secret) {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.replace(/\s+/g, "").toUpperCase()), digits: 6, period: 30, algorithm: "SHA1" });
  const near = new Set([-2, -1, 0, 1, 2].map((k) => totp.generate({ timestamp: Date.now() + k * 30_000 })));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!near.has(code)) return code;
  }
}
