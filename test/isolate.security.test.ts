import { describe, expect, it } from "vitest";
import { enableTOTP, newUser, reauth } from "./support/fixtures";

/**
 * Guards of different users may run in one isolate (the tests' runtime always
 * puts them there; Cloudflare may too). A promise made in one Durable Object
 * and settled from another's turn cannot do I/O ("Cannot perform I/O on behalf
 * of a different Durable Object"), so nothing a guard awaits may be handed over
 * by another guard: the code hashes' admission queue is each guard's own
 * (src/lib/code-hash.ts). With one queue for the isolate, a guard waiting
 * behind another's hash was woken by that other guard and its work failed or
 * hung (docs/security.md R10g).
 */
describe("guards of different users in one isolate", () => {
  it("hash codes at the same time, and every one finishes", async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => newUser()));
    for (const u of users) await enableTOTP(u.client);
    for (const u of users) await reauth(u.client);
    // Each regeneration hashes ten codes in its own guard: forty hashes of four guards in flight at once.
    const answers = await Promise.all(users.map((u) => u.client.json("POST", "/api/security/backup-codes")));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    for (const a of answers) expect(a.body.codes).toHaveLength(10);
  }, 20_000);
});
