#!/usr/bin/env node
// Writes what the pages load but the repository does not hold, into
// public/assets/vendor/ (not committed):
// - webauthn.js: the browser half of SimpleWebAuthn, so the pages import it
//   without a CDN or inline script;
// - languages.js: the languages the switch offers, one per catalogue in
//   public/assets/i18n/, each named in its own language ("language.name"), so
//   adding a language is adding a file.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "public", "assets", "vendor");
await build({
  stdin: { contents: 'export * from "@simplewebauthn/browser";', resolveDir: root, loader: "js" },
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  outfile: join(vendor, "webauthn.js"),
  logLevel: "warning",
});

const i18n = join(root, "public", "assets", "i18n");
const languages = {};
for (const file of readdirSync(i18n).sort()) {
  const code = /^([a-z]{2,3}(?:-[a-z0-9]+)*)\.json$/.exec(file)?.[1];
  if (!code) continue;
  const name = JSON.parse(readFileSync(join(i18n, file), "utf8"))["language.name"];
  if (typeof name !== "string" || !name) throw new Error(`${file}: "language.name" is missing`);
  languages[code] = name;
}
// English first (the fallback), then the others in code order.
const ordered = Object.fromEntries(Object.entries(languages).sort(([a], [b]) => (a === "en" ? -1 : b === "en" ? 1 : a.localeCompare(b))));
mkdirSync(vendor, { recursive: true });
writeFileSync(join(vendor, "languages.js"), `export const LANGUAGES = ${JSON.stringify(ordered)};\n`);
