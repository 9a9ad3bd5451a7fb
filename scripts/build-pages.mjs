#!/usr/bin/env node
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// Bundles the browser half of SimpleWebAuthn into public/assets/vendor/ so the
// pages can import it without a CDN or inline script. Output is not committed.
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  stdin: { contents: 'export * from "@simplewebauthn/browser";', resolveDir: root, loader: "js" },
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  outfile: join(root, "public", "assets", "vendor", "webauthn.js"),
  logLevel: "warning",
});
