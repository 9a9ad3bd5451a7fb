import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKEN_SLOT } from "../src/lib/email-token";
import { type Client, ORIGIN } from "./support/client";
import { totpCode } from "./support/codes";
import {
  communityWithMember,
  enableTOTP,
  halfLoggedIn,
  logIn,
  newUser,
  PASSWORD,
  reauth,
  secondStepClient,
  type TestUser,
  uniqueEmail,
} from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { fillPath, key, openAPIDocument, operationsOf } from "./support/openapi";
import { operatorClient } from "./support/ops";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { callerAt, guard, loginThrottleKeys, worldSnapshot } from "./support/stores";
import { logInRemembering, TrustedClient } from "./support/trusted";
import { userWithKey } from "./support/webauthn";

/**
 * docs/api.md: "state-changing requests whose Origin is present and is not the
 * service's own origin get 403 (csrf)". The routes come from the OpenAPI
 * document, so a new state-changing route without a scenario here fails the
 * suite. Each attempt carries a session and a body that succeed from the
 * service's own origin (checked right after), is refused from a foreign one,
 * and leaves D1, every guard and the login throttles exactly as they were.
 */

const FOREIGN = "https://evil.example";

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

interface Attempt {
  client: Client;
  path: string;
  body?: unknown;
  /** The status the same request gets from the service's own origin. */
  succeeds: number;
  throttleKeys?: string[];
}

async function withTOTP(): Promise<TestUser & { secret: string; methodId: string }> {
  const u = await newUser();
  const { secret, methodId } = await enableTOTP(u.client);
  return { ...u, secret, methodId };
}

/** A user with one remembered browser; `client` is another of their full sessions. */
async function withRememberedBrowser(): Promise<TestUser & { browserId: string }> {
  const u = await withTOTP();
  await logInRemembering(new TrustedClient(), u.email, u.secret);
  const list = await u.client.json("GET", "/api/security/trusted-browsers");
  return { ...u, browserId: list.body.browsers[0].id };
}

const SCENARIOS: Record<string, () => Promise<Attempt>> = {
  "PUT /api/communities/{cid}/policy": async () => {
    const { admin, cid } = await communityWithMember();
    await enableTOTP(admin.client);
    await reauth(admin.client);
    return {
      client: admin.client,
      path: `/api/communities/${cid}/policy`,
      body: { requireTwoFactor: true, graceDays: 3, allowTrustedBrowsers: true },
      succeeds: 200,
    };
  },
  "POST /api/ops/reset-2fa": async () => {
    const u = await withTOTP();
    return { client: operatorClient(), path: "/api/ops/reset-2fa", body: { email: u.email }, succeeds: 200 };
  },
  "POST /api/auth/signup": async () => {
    const u = await newUser();
    return { client: u.client, path: "/api/auth/signup", body: { email: uniqueEmail("csrf"), password: PASSWORD, name: "Eve" }, succeeds: 201 };
  },
  "POST /api/auth/login": async () => {
    const u = await newUser();
    return {
      client: u.client,
      path: "/api/auth/login",
      body: { email: u.email, password: PASSWORD },
      succeeds: 200,
      throttleKeys: loginThrottleKeys(u.email, u.client.ip),
    };
  },
  "POST /api/auth/verify": async () => {
    const { half: client, secret } = await halfLoggedIn();
    return { client, path: "/api/auth/verify", body: { method: "totp", code: totpCode(secret) }, succeeds: 200 };
  },
  "POST /api/auth/webauthn/options": async () => {
    const { user } = await userWithKey();
    return { client: await secondStepClient(user.email), path: "/api/auth/webauthn/options", succeeds: 200 };
  },
  "POST /api/auth/logout": async () => {
    const u = await newUser();
    return { client: u.client, path: "/api/auth/logout", succeeds: 204 };
  },
  "POST /api/security/reauth": async () => {
    const u = await newUser();
    return { client: u.client, path: "/api/security/reauth", body: { password: PASSWORD }, succeeds: 204 };
  },
  "POST /api/security/totp": async () => {
    const u = await newUser();
    await reauth(u.client);
    return { client: u.client, path: "/api/security/totp", body: { name: "Phone" }, succeeds: 201 };
  },
  "POST /api/security/totp/{id}/confirm": async () => {
    const u = await newUser();
    await reauth(u.client);
    const start = await u.client.json("POST", "/api/security/totp", { name: "Phone" });
    return { client: u.client, path: `/api/security/totp/${start.body.id}/confirm`, body: { code: totpCode(start.body.secret) }, succeeds: 200 };
  },
  "POST /api/security/webauthn/options": async () => {
    const u = await newUser();
    await reauth(u.client);
    return { client: u.client, path: "/api/security/webauthn/options", succeeds: 200 };
  },
  "POST /api/security/webauthn": async () => {
    const u = await newUser();
    await reauth(u.client);
    const options = await u.client.json("POST", "/api/security/webauthn/options");
    const response = await (await SoftAuthenticator.create()).register(options.body);
    return { client: u.client, path: "/api/security/webauthn", body: { name: "Key", response }, succeeds: 201 };
  },
  "PATCH /api/security/methods/{id}": async () => {
    const u = await withTOTP();
    return { client: u.client, path: `/api/security/methods/${u.methodId}`, body: { name: "Renamed" }, succeeds: 200 };
  },
  "DELETE /api/security/methods/{id}": async () => {
    const u = await withTOTP();
    // A second app, so the first is not the last method.
    const start = await u.client.json("POST", "/api/security/totp", { name: "Tablet" });
    const confirm = await u.client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: totpCode(start.body.secret) });
    expect(confirm.status).toBe(200);
    return { client: u.client, path: `/api/security/methods/${u.methodId}`, succeeds: 204 };
  },
  "POST /api/security/backup-codes": async () => {
    const u = await withTOTP();
    return { client: u.client, path: "/api/security/backup-codes", succeeds: 200 };
  },
  "PUT /api/security/preferred": async () => {
    const u = await withTOTP();
    return { client: u.client, path: "/api/security/preferred", body: { method: "totp" }, succeeds: 200 };
  },
  "POST /api/security/disable": async () => {
    const u = await withTOTP();
    return { client: u.client, path: "/api/security/disable", body: { password: PASSWORD }, succeeds: 200 };
  },
  "POST /api/security/sessions/revoke-others": async () => {
    const u = await newUser();
    await logIn(u.email);
    return { client: u.client, path: "/api/security/sessions/revoke-others", succeeds: 204 };
  },
  "DELETE /api/security/sessions/{id}": async () => {
    const u = await newUser();
    const { client: other } = await logIn(u.email);
    const listed = await other.json("GET", "/api/security/sessions");
    const target = (listed.body.sessions as { id: string; current: boolean }[]).find((s) => s.current);
    return { client: u.client, path: `/api/security/sessions/${target?.id}`, succeeds: 204 };
  },
  "DELETE /api/security/trusted-browsers/{id}": async () => {
    const u = await withRememberedBrowser();
    return { client: u.client, path: `/api/security/trusted-browsers/${u.browserId}`, succeeds: 204 };
  },
  "DELETE /api/security/trusted-browsers": async () => {
    const u = await withRememberedBrowser();
    return { client: u.client, path: "/api/security/trusted-browsers", succeeds: 204 };
  },
  "POST /api/communities/{cid}/invitations": async () => {
    const { admin } = await communityWithMember();
    return {
      client: admin.client,
      path: `/api/communities/${admin.communityId}/invitations`,
      body: { email: uniqueEmail("invitee"), role: "member" },
      succeeds: 201,
    };
  },
  "POST /api/communities/{cid}/members/{uid}/reset-2fa": async () => {
    const { admin, member } = await communityWithMember();
    await enableTOTP(member.client);
    // Only an admin with 2FA may reset.
    await enableTOTP(admin.client);
    const path = fillPath("/api/communities/{cid}/members/{uid}/reset-2fa", { cid: admin.communityId, uid: member.id });
    return { client: admin.client, path, body: { password: PASSWORD }, succeeds: 200 };
  },
  "DELETE /api/communities/{cid}/members/{uid}": async () => {
    const { admin, member } = await communityWithMember();
    return { client: admin.client, path: fillPath("/api/communities/{cid}/members/{uid}", { cid: admin.communityId, uid: member.id }), succeeds: 204 };
  },
  "POST /api/auth/verify-email": async () => {
    const u = await newUser({ verified: false });
    return { client: u.client, path: "/api/auth/verify-email", body: { token: mail.lastToken(u.email, "verify-email") }, succeeds: 200 };
  },
  "POST /api/auth/verify-email/resend": async () => {
    const u = await newUser({ verified: false });
    return { client: u.client, path: "/api/auth/verify-email/resend", succeeds: 204 };
  },
  "POST /api/auth/password-reset": async () => {
    const u = await newUser();
    return { client: u.client, path: "/api/auth/password-reset", body: { email: u.email }, succeeds: 202 };
  },
  "POST /api/auth/password-reset/confirm": async () => {
    const u = await newUser();
    await u.client.post("/api/auth/password-reset", { email: u.email });
    const token = await mail.nextToken(u.email, "reset-password");
    return { client: u.client, path: "/api/auth/password-reset/confirm", body: { token, password: "a new password for csrf" }, succeeds: 204 };
  },
  "POST /api/auth/device-link": async () => {
    const u = await newUser();
    const content = { subject: "Sign in", text: `link: http://localhost/device#token=${TOKEN_SLOT}`, template: "device_link" };
    await guard(u.id).issueToken(callerAt(u, Date.now()), "device_link", content);
    return { client: u.client, path: "/api/auth/device-link", body: { token: mail.lastToken(u.email, "device") }, succeeds: 204 };
  },
  "POST /api/security/password": async () => {
    const u = await newUser();
    return {
      client: u.client,
      path: "/api/security/password",
      body: { currentPassword: PASSWORD, newPassword: "a new password for csrf" },
      succeeds: 204,
      throttleKeys: loginThrottleKeys(u.email, u.client.ip),
    };
  },
  "POST /api/invitations/{id}/accept": async () => {
    const admin = await newUser({ community: "Invites" });
    const invitee = await newUser();
    const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: invitee.email, role: "member" });
    return { client: invitee.client, path: `/api/invitations/${invite.body.invitation.id}/accept`, succeeds: 200 };
  },
};

const UNSAFE = new Set(["post", "put", "patch", "delete"]);
// The routes under test are the document's, not a list kept here.
const doc = await openAPIDocument();
const stateChanging = operationsOf(doc)
  .filter((op) => UNSAFE.has(op.method))
  .map((op) => ({ method: op.method.toUpperCase(), key: key(op.method, op.path), documented: `${op.method.toUpperCase()} ${op.path}` }));

async function refusedAndUnchanged(method: string, attempt: Attempt, origin: string): Promise<void> {
  const before = await worldSnapshot(attempt.throttleKeys);
  const cookieBefore = attempt.client.cookie;
  const res = await attempt.client.request(method, attempt.path, attempt.body, { Origin: origin });
  expect(res.status).toBe(403);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
  expect(((await res.json()) as { code: string }).code).toBe("csrf");
  expect(res.headers.get("Set-Cookie")).toBeNull();
  expect(attempt.client.cookie).toBe(cookieBefore);
  expect(await worldSnapshot(attempt.throttleKeys)).toEqual(before);
}

describe("CSRF: every state-changing route refuses a foreign Origin and changes nothing", () => {
  it("the document lists the state-changing routes (at least the contract's 17)", () => {
    expect(stateChanging.length).toBeGreaterThanOrEqual(17);
  });

  it.each(stateChanging)("$documented", async ({ method, key: k }) => {
    const scenario = Object.entries(SCENARIOS).find(([documented]) => key(...(documented.split(" ") as [string, string])) === k)?.[1];
    expect(scenario, `no CSRF scenario for ${k}: add one`).toBeDefined();
    const attempt = await (scenario as () => Promise<Attempt>)();
    await refusedAndUnchanged(method, attempt, FOREIGN);
    // The same request from the service's own origin goes through: the refusal was the Origin's doing.
    const ok = await attempt.client.request(method, attempt.path, attempt.body, { Origin: ORIGIN });
    expect(ok.status, await ok.clone().text()).toBe(attempt.succeeds);
  });

  it.each([
    ["another site", "https://evil.example"],
    ["a look-alike host", "http://localhost.evil.example"],
    ["another scheme", "https://localhost"],
    ["another port", "http://localhost:8788"],
    ["an opaque origin (sandboxed frame, data: URL)", "null"],
    ["a different letter case of a foreign host", "HTTPS://EVIL.EXAMPLE"],
  ])("disabling 2FA from %s (%s) is refused and changes nothing", async (_label, origin) => {
    const u = await withTOTP();
    await refusedAndUnchanged("POST", { client: u.client, path: "/api/security/disable", body: { password: PASSWORD }, succeeds: 200 }, origin);
    const security = await u.client.json("GET", "/api/security");
    expect(security.body.enabled).toBe(true);
  });

  it("a refused logout leaves the session usable", async () => {
    const u = await newUser();
    await refusedAndUnchanged("POST", { client: u.client, path: "/api/auth/logout", succeeds: 204 }, FOREIGN);
    expect((await u.client.get("/api/me")).status).toBe(200);
  });

  it("reading is not state-changing: GET from a foreign Origin still answers (the cookie is SameSite=Lax and the body is not readable cross-site)", async () => {
    const u = await newUser();
    const res = await u.client.request("GET", "/api/me", undefined, { Origin: FOREIGN });
    expect(res.status).toBe(200);
    // No CORS grant: a browser will not hand the body to the foreign page.
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
