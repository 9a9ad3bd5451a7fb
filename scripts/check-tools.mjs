#!/usr/bin/env node
// The first step of `npm test`: what the suite needs beyond npm, checked before
// anything runs, so a machine without it stops with one line instead of failing
// deep inside a browser test. The page tests drive Debian's Chromium
// (CHROMIUM_PATH, default /usr/bin/chromium); the TOTP test cross-checks its
// codes with oathtool. `.ci/run` installs both on a fresh machine.
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

const missing = [];
try {
  accessSync(process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", constants.X_OK);
} catch {
  missing.push("chromium");
}
try {
  execFileSync("oathtool", ["--version"], { stdio: "ignore" });
} catch {
  missing.push("oathtool");
}
if (missing.length > 0) {
  console.error(`npm test needs ${missing.join(" and ")}: apt-get install ${missing.join(" ")}`);
  process.exit(1);
}
