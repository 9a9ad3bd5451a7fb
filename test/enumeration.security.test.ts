import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashPassword } from "../src/auth/passwords";
import { Client } from "./support/client";
import { enableTOTP, newUser, recoveryLogin, uniqueEmail } from "./support/fixtures";

/**
 * No answer may tell whether an email has an account (docs/api.md: login "same body
 * and similar time for both", invitations "whether or not an account has that
 * email"). Time is measured by `npm run load`, not asserted here; these tests
 * compare everything else a client can see: status, headers, body.
 */

const WRONG = "definitely not the password";

/** What a client sees, minus what differs between any two responses (the Date header and the request's own id). */
async function observable(res: Response) {
  const headers = [...res.headers.entries()].filter(([name]) => name !== "date" && name !== "x-request-id").sort();
  return { status: res.status, headers, body: (await res.json()) as Record<string, unknown> };
}

/** The body with every leaf replaced by its type: the same keys and nesting, values aside. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return value === null ? "null" : typeof value;
}

afterEach(() => vi.restoreAllMocks());

/**
 * The PBKDF2 iterations run while `run` runs, summed: the work a request costs, which is what its time is made of
 * (the platform's deriveBits is only watched, not replaced).
 */
async function pbkdf2Work(run: () => Promise<unknown>): Promise<number> {
  let total = 0;
  const original = crypto.subtle.deriveBits.bind(crypto.subtle);
  vi.spyOn(crypto.subtle, "deriveBits").mockImplementation((algorithm, key, length) => {
    const a = algorithm as { name: string; iterations: number };
    if (a.name === "PBKDF2") total += a.iterations;
    return original(algorithm, key, length);
  });
  await run();
  return total;
}

describe("login", () => {
  it("an unknown email and a wrong password get the same status, headers and body", async () => {
    const known = await newUser();
    const unknown = await new Client().request("POST", "/api/auth/login", { email: uniqueEmail("nobody"), password: WRONG });
    const wrong = await new Client().request("POST", "/api/auth/login", { email: known.email, password: WRONG });
    const a = await observable(unknown);
    const b = await observable(wrong);
    expect(a.status).toBe(401);
    expect(a.body.code).toBe("invalid_credentials");
    expect(b).toEqual(a);
  });

  it("the answer is the same whether the account has 2FA, has none, or waits for a recovery code", async () => {
    const plain = await newUser();
    const withTOTP = await newUser();
    await enableTOTP(withTOTP.client);
    // Reset by its admin: the right password now answers recovery_code_required (recoveryLogin checks it).
    const { member: recovering } = await recoveryLogin();
    const answers = [];
    for (const email of [plain.email, withTOTP.email, recovering.email, uniqueEmail("nobody")]) {
      answers.push(await observable(await new Client().request("POST", "/api/auth/login", { email, password: WRONG })));
    }
    expect(answers[0]?.status).toBe(401);
    expect(answers[0]?.body.code).toBe("invalid_credentials");
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(answers[3]).toEqual(answers[0]);
  });

  it("the email's spelling (case, spaces) does not change the answer", async () => {
    const known = await newUser();
    const a = await observable(await new Client().request("POST", "/api/auth/login", { email: known.email, password: WRONG }));
    const b = await observable(await new Client().request("POST", "/api/auth/login", { email: `  ${known.email.toUpperCase()} `, password: WRONG }));
    expect(b).toEqual(a);
  });

  it("a wrong password for an account still on an older, cheaper hash costs the PBKDF2 work of an unknown email (R12h)", async () => {
    // docs/passwords.md "Raising the cost later": accounts that have not logged in since keep their old hash.
    const dormant = await newUser();
    const old = await hashPassword("the password of long ago, before the cost went up", { iterations: Number(env.PASSWORD_ITERATIONS) / 4 });
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(old, dormant.id).run();
    const known = await pbkdf2Work(() => new Client().request("POST", "/api/auth/login", { email: dormant.email, password: WRONG }));
    vi.restoreAllMocks();
    const unknown = await pbkdf2Work(() => new Client().request("POST", "/api/auth/login", { email: uniqueEmail("nobody"), password: WRONG }));
    expect(unknown).toBe(Number(env.PASSWORD_ITERATIONS));
    expect(known).toBe(unknown);
  });

  it("throttling starts at the same attempt with the same answer for a known and an unknown email", async () => {
    const known = await newUser();
    const nobody = uniqueEmail("nobody");
    const run = async (email: string) => {
      const client = new Client(); // one client address per email: only the per-email bucket is in play
      const statuses: number[] = [];
      let last: Response | null = null;
      for (let i = 0; i < 11; i++) {
        last = await client.request("POST", "/api/auth/login", { email, password: WRONG });
        statuses.push(last.status);
      }
      const seen = await observable(last as Response);
      const retryAfter = Number(seen.headers.find(([n]) => n === "retry-after")?.[1]);
      return { statuses, seen: { ...seen, headers: seen.headers.filter(([n]) => n !== "retry-after") }, retryAfter };
    };
    const a = await run(known.email);
    const b = await run(nobody);
    expect(a.statuses).toEqual([...Array(10).fill(401), 429]);
    expect(b.statuses).toEqual(a.statuses);
    expect(b.seen).toEqual(a.seen);
    expect(a.seen.body.code).toBe("too_many_attempts");
    // Retry-After is a wait in seconds on both; it may differ by the second that passed.
    expect(a.retryAfter).toBeGreaterThan(0);
    expect(Math.abs(a.retryAfter - b.retryAfter)).toBeLessThanOrEqual(2);
  });
});

describe("re-entering the password", () => {
  it("reauth with a wrong password answers in login's invalid_credentials shape", async () => {
    const u = await newUser();
    const login = await observable(await new Client().request("POST", "/api/auth/login", { email: uniqueEmail("nobody"), password: WRONG }));
    const res = await observable(await u.client.request("POST", "/api/security/reauth", { password: WRONG }));
    expect(res.status).toBe(login.status);
    expect(shape(res.body)).toEqual(shape(login.body));
    for (const field of ["type", "title", "status", "code"]) expect(res.body[field], field).toEqual(login.body[field]);
    expect(res.headers.filter(([n]) => n !== "content-length")).toEqual(login.headers.filter(([n]) => n !== "content-length"));
  });

  it("disable with a wrong password answers the same way as reauth", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const reauth = await observable(await u.client.request("POST", "/api/security/reauth", { password: WRONG }));
    const disable = await observable(await u.client.request("POST", "/api/security/disable", { password: WRONG }));
    expect(disable).toEqual(reauth);
  });
});

describe("invitations", () => {
  it("inviting an email with an account and one without answers alike (status, headers, keys) and mails both", async () => {
    const admin = (await newUser({ community: "Enumeration" })) as Awaited<ReturnType<typeof newUser>> & { communityId: string };
    const existing = await newUser();
    const nobody = uniqueEmail("nobody");
    const invite = (email: string) => admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email, role: "member" });
    const a = await observable(await invite(existing.email));
    const b = await observable(await invite(nobody));
    expect(a.status).toBe(201);
    expect(b.status).toBe(a.status);
    expect(b.headers.filter(([n]) => n !== "content-length")).toEqual(a.headers.filter(([n]) => n !== "content-length"));
    expect(shape(b.body)).toEqual(shape(a.body));
    expect(Object.keys(b.body.invitation as object).sort()).toEqual(["email", "expiresAt", "id", "role"]);
    expect((a.body.invitation as { email: string }).email).toBe(existing.email);
    expect((b.body.invitation as { email: string }).email).toBe(nobody);
    // Both get the same email, so a mailbox-side observer learns nothing either.
    const { results } = await env.DB.prepare(
      "SELECT recipient, template, subject FROM outbox WHERE recipient IN (?, ?) AND template = 'invitation' ORDER BY recipient",
    )
      .bind(existing.email, nobody)
      .all<{ recipient: string; template: string; subject: string }>();
    expect(results).toHaveLength(2);
    expect(results[0]?.template).toBe(results[1]?.template);
    expect(results[0]?.subject).toBe(results[1]?.subject);
  });

  it("the pending list shows both invitations the same way", async () => {
    const admin = (await newUser({ community: "Listing" })) as Awaited<ReturnType<typeof newUser>> & { communityId: string };
    const existing = await newUser();
    const nobody = uniqueEmail("nobody");
    for (const email of [existing.email, nobody]) {
      await admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email, role: "member" });
    }
    const list = await admin.client.json("GET", `/api/communities/${admin.communityId}/invitations`);
    const rows = list.body.invitations as Record<string, unknown>[];
    expect(rows).toHaveLength(2);
    expect(shape(rows[0])).toEqual(shape(rows[1]));
  });
});
