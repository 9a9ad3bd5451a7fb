// The routing only the real server has: wrangler.toml's [assets] decides which
// paths reach the Worker first (run_worker_first) and which are answered by the
// static pages, and the integration tests' SELF.fetch never passes through it.
// Everything under /api is the Worker's, so its errors are problem+json, never
// the HTML 404 page (docs/api.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BASE_URL } from "./support.mjs";

for (const path of ["/api", "/api/", "/api/nope", "/api/auth/nope/deeper"]) {
  test(`GET ${path} is the Worker's: 404 problem+json, not the HTML page`, async () => {
    const res = await fetch(`${BASE_URL}${path}`, { redirect: "manual" });
    assert.equal(res.status, 404);
    assert.match(res.headers.get("Content-Type") ?? "", /^application\/problem\+json/);
    assert.equal((await res.json()).code, "not_found");
  });
}

test("a path outside /api that is no page gets the HTML 404 page", async () => {
  const res = await fetch(`${BASE_URL}/no-such-page`, { redirect: "manual" });
  assert.equal(res.status, 404);
  assert.match(res.headers.get("Content-Type") ?? "", /^text\/html/);
});
