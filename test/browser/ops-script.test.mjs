// `npm run ops` against a running service, as an operator runs it. The test
// server has no OPS_TOKEN secret, so the route is off: the script must say so
// and point at docs/deploy.md (the reset itself is test/ops.test.ts). It must
// never send the token over plain http to a remote host.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { BASE_URL } from "./support.mjs";

function ops(args, env = {}) {
  const r = spawnSync(process.execPath, ["scripts/ops.mjs", ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test("npm run ops: usage, a refusal to leak the token, and the route off without the secret", () => {
  const usage = ops([]);
  assert.equal(usage.status, 2);
  assert.match(usage.err, /usage: npm run ops -- reset-2fa EMAIL/);

  const plain = ops(["reset-2fa", "someone@example.com", "--url", "http://auth.example.com"], { OPS_TOKEN: "a-token" });
  assert.equal(plain.status, 2);
  assert.match(plain.err, /refusing to send the operator token over plain http/);

  const off = ops(["reset-2fa", "someone@example.com", "--url", BASE_URL], { OPS_TOKEN: "a-token" });
  assert.equal(off.status, 1);
  assert.match(off.err, /404 not_found: .*is OPS_TOKEN set on the Worker\?/);
  assert.doesNotMatch(off.out + off.err, /a-token/, "the token is never printed");
});
