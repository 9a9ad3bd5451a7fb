// The emails the local service sent, read as the recipient would: `wrangler
// dev` writes each message's text under .wrangler/tmp/email/…/email-text/
// (docs/email.md). A link's token names whom it is for (`<user or
// invitation id>.<secret>`), which is how a test finds its own message among
// everyone's.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(process.cwd(), ".wrangler", "tmp", "email");

function texts(dir = ROOT) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(texts(path));
    else if (e.name.endsWith(".txt")) out.push(path);
  }
  return out;
}

/** Tokens of links to `/page` for `id`, in no particular order. */
function tokensFor(page, id) {
  const re = new RegExp(`/${page}#token=(${id.replace(/[-]/g, "\\-")}\\.[A-Za-z0-9_-]+)`, "g");
  const found = new Set();
  for (const file of texts()) for (const m of readFileSync(file, "utf8").matchAll(re)) found.add(m[1]);
  return found;
}

/**
 * Waits (as a condition, up to 20 s) for a link to `/page` for `id` that is not
 * among `seen`, and returns its token.
 */
export async function mailedToken(page, id, seen = new Set()) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const token of tokensFor(page, id)) if (!seen.has(token)) return token;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no email with a link to /${page} for ${id}`);
}

/** The tokens already mailed for `id` (to tell a new link from an older one). */
export function mailedTokens(page, id) {
  return tokensFor(page, id);
}
