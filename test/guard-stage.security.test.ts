import { describe, expect, it } from "vitest";
import type { RelyingParty } from "../src/factors/webauthn/relying-party";
import type { Stage } from "../src/session";
import { totpCode } from "./support/codes";
import { enableTOTP, newUser } from "./support/fixtures";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { callerAt, guard, guardSnapshot, sessionCallerAt } from "./support/stores";

/**
 * Defence in depth: the routes admit sessions by stage, and the guard checks
 * the caller's stage again for every change it makes, so a route that forgot
 * its check (or passed the wrong session) still cannot, say, disable 2FA from
 * a half-logged-in session. Each call below goes straight to the user's guard
 * with a stage its route would never admit, and must change nothing.
 */

const RP: RelyingParty = { id: "localhost", name: "Edge 2FA", origins: ["http://localhost"] };
const WRONG_STAGE = { ok: false, reason: "wrong_stage" };

async function userWithTOTP() {
  const u = await newUser();
  const totp = await enableTOTP(u.client);
  return { u, ...totp };
}

describe("the guard refuses a caller whose stage does not allow the call", () => {
  const fullOnly: Stage[] = ["second_factor", "recovery", "enrollment"];
  it.each(fullOnly)("from %s: rename, remove, preferred, regenerate and disable change nothing", async (stage) => {
    const { u, methodId } = await userWithTOTP();
    const g = guard(u.id);
    const before = await guardSnapshot(u.id);
    const caller = callerAt(u, Date.now(), stage);
    expect(await g.renameMethod(caller, methodId, "Evil")).toEqual(WRONG_STAGE);
    expect(await g.removeMethod(caller, methodId)).toEqual(WRONG_STAGE);
    expect(await g.setPreferred(caller, "totp")).toEqual(WRONG_STAGE);
    expect(await g.regenerateBackupCodes(caller)).toEqual(WRONG_STAGE);
    expect(await g.disable(caller)).toEqual(WRONG_STAGE);
    expect(await guardSnapshot(u.id)).toEqual(before);
  });

  it.each(["second_factor", "recovery"] as Stage[])("from %s: adding an app or a key is refused and stores nothing", async (stage) => {
    const { u } = await userWithTOTP();
    const g = guard(u.id);
    const before = await guardSnapshot(u.id);
    const caller = callerAt(u, Date.now(), stage);
    expect(await g.startTOTP(caller, "Evil")).toEqual(WRONG_STAGE);
    expect(await g.webAuthnChallenge(caller, "registration")).toEqual(WRONG_STAGE);
    expect(await guardSnapshot(u.id)).toEqual(before);
  });

  it("confirming an app and registering a key need an authenticated or enrollment caller", async () => {
    const u = await newUser();
    const g = guard(u.id);
    const now = Date.now();
    const started = await g.startTOTP(callerAt(u, now, "authenticated"), "Phone");
    if (!started.ok) throw new Error("start");
    const full = sessionCallerAt(u, now);
    const challenge = await g.webAuthnChallenge(full, "registration");
    if (!challenge.ok) throw new Error("challenge");
    const auth = await SoftAuthenticator.create();
    const response = await auth.register({
      challenge: challenge.challenge,
      rp: { id: "localhost", name: "Edge 2FA" },
      user: { id: "dQ", name: u.email, displayName: u.name },
    });
    const before = await guardSnapshot(u.id);
    // The same session's public id, at a stage that adds nothing: refused for the stage, not the challenge.
    const half = { ...full, stage: "second_factor" as const };
    expect(await g.confirmTOTP(half, started.id, "000000")).toEqual(WRONG_STAGE);
    expect(await g.registerWebAuthn(half, "Evil key", response, RP)).toEqual(WRONG_STAGE);
    expect(await guardSnapshot(u.id)).toEqual(before);
  });

  it.each(["authenticated", "enrollment", "recovery"] as Stage[])("from %s: a second-factor verification is refused and counts nothing", async (stage) => {
    const { u, secret, backupCodes } = await userWithTOTP();
    const g = guard(u.id);
    const now = Date.now();
    const before = await guardSnapshot(u.id);
    const caller = callerAt(u, now, stage);
    expect(await g.verifyTOTP(caller, totpCode(secret, now))).toEqual(WRONG_STAGE);
    expect(await g.verifyBackupCode(caller, backupCodes[0] as string)).toEqual(WRONG_STAGE);
    expect(await g.verifyWebAuthn(caller, {}, RP)).toEqual(WRONG_STAGE);
    expect(await g.webAuthnChallenge(caller, "authentication")).toEqual(WRONG_STAGE);
    expect(await guardSnapshot(u.id)).toEqual(before);
  });

  it("a recovery code is refused from any stage but recovery", async () => {
    const { u } = await userWithTOTP();
    const g = guard(u.id);
    const before = await guardSnapshot(u.id);
    for (const stage of ["second_factor", "enrollment", "authenticated"] as Stage[]) {
      expect(await g.verifyRecoveryCode(callerAt(u, Date.now(), stage), "zzzz-zzzz-zzzz-zzzz")).toEqual(WRONG_STAGE);
    }
    expect(await guardSnapshot(u.id)).toEqual(before);
  });

  it("an admin reset is refused when the acting admin's session is not fully logged in", async () => {
    const { u } = await userWithTOTP();
    const admin = await newUser();
    const before = await guardSnapshot(u.id);
    for (const stage of ["second_factor", "recovery", "enrollment"] as Stage[]) {
      const answer = await guard(u.id).adminReset(callerAt(u, Date.now()), { id: admin.id, name: admin.name, stage });
      expect(answer).toEqual(WRONG_STAGE);
    }
    expect(await guardSnapshot(u.id)).toEqual(before);
  });
});
