import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { enableTOTP, newUser, PASSWORD, reauth, uniqueEmail } from "./support/fixtures";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { rowCounts } from "./support/stores";

/**
 * docs/api.md "Names and text from users": user, community and method names
 * are 1 to 100 code points after NFC and trimming; control characters, line
 * and paragraph separators, bidirectional overrides and lone surrogates are refused (400
 * invalid_request). Names reach other people's inboxes (invitations, reset
 * notices), so an attacker's name must never become a header, a line of its
 * own, or text that reads backwards; and no subject line carries a name
 * chosen by another user.
 */

const HOSTILE: [string, string][] = [
  ["CR LF and a header", "Acme\r\nBcc: victim@example.com"],
  ["a bare LF", "Acme\nSupport"],
  ["a bare CR", "Acme\rSupport"],
  ["a tab", "Acme\tSupport"],
  ["a NUL", "Acme\u0000Support"],
  ["DEL (Cc)", "Acme\u007fSupport"],
  ["a C1 control (Cc)", "Acme\u0085Support"],
  ["U+2028 line separator", "Acme\u2028Support"],
  ["U+2029 paragraph separator", "Acme\u2029Support"],
  ["U+202E right-to-left override", "Acme \u202Egnp.exe"],
  ["U+202A left-to-right embedding", "Acme\u202ASupport"],
  ["U+2066 left-to-right isolate", "Acme\u2066Support"],
  ["U+2069 pop directional isolate", "Acme\u2069Support"],
  ["a trailing newline", "Acme\n"],
  // Half of a UTF-16 pair is no character: D1 gives it back as three U+FFFD, so the name stored is not the one
  // answered, and 100 of them come back 300 characters long.
  ["a lone high surrogate", "Acme\uD800Support"],
  ["a lone low surrogate", "Acme\uDFFF"],
];

async function expectRefused(res: Response, field: string): Promise<void> {
  expect(res.status).toBe(400);
  const problem = (await problemOf(res)) as { code: string; errors?: { path: string }[] };
  expect(problem.code).toBe("invalid_request");
  expect(problem.errors?.map((e) => e.path)).toContain(field);
}

describe("hostile names are refused with 400 invalid_request and write nothing", () => {
  it.each(HOSTILE)("signup: a user name and a community name with %s", async (_label, name) => {
    const before = await rowCounts();
    const client = new Client();
    await expectRefused(await client.request("POST", "/api/auth/signup", { email: uniqueEmail(), password: PASSWORD, name }), "name");
    await expectRefused(
      await client.request("POST", "/api/auth/signup", { email: uniqueEmail(), password: PASSWORD, name: "Eve", community: name }),
      "community",
    );
    expect(await rowCounts()).toEqual(before);
  });

  it.each(HOSTILE)("method names: a new app, a rename and a new key with %s", async (_label, name) => {
    const u = await newUser();
    const { methodId } = await enableTOTP(u.client);
    await reauth(u.client);
    await expectRefused(await u.client.request("POST", "/api/security/totp", { name }), "name");
    await expectRefused(await u.client.request("PATCH", `/api/security/methods/${methodId}`, { name }), "name");
    const options = await u.client.json("POST", "/api/security/webauthn/options");
    const response = await (await SoftAuthenticator.create()).register(options.body);
    await expectRefused(await u.client.request("POST", "/api/security/webauthn", { name, response }), "name");
    const methods = (await u.client.json("GET", "/api/security")).body.methods;
    expect(methods.map((m: { name: string }) => m.name)).toEqual(["Phone"]);
  });
});

describe("name lengths count code points after NFC and trimming", () => {
  it("1 to 100: surrounding spaces are trimmed, 100 astral characters pass, 101 and blank are refused", async () => {
    const client = new Client();
    const signup = (name: string) => client.json("POST", "/api/auth/signup", { email: uniqueEmail("len"), password: PASSWORD, name });
    const trimmed = await signup("  Ada Lovelace  ");
    expect(trimmed.status).toBe(201);
    expect(trimmed.body.user.name).toBe("Ada Lovelace");
    // "e" + COMBINING ACUTE is one code point after NFC: 100 of them fit.
    expect((await signup("e\u0301".repeat(100))).status).toBe(201);
    expect((await signup("😀".repeat(100))).status).toBe(201);
    expect((await signup("😀".repeat(101))).status).toBe(400);
    expect((await signup("   ")).status).toBe(400);
    // Method names follow the same rule (they were capped at 64 before).
    const u = await newUser();
    await reauth(u.client);
    expect((await u.client.json("POST", "/api/security/totp", { name: "m".repeat(100) })).status).toBe(201);
    expect((await u.client.json("POST", "/api/security/totp", { name: "m".repeat(101) })).status).toBe(400);
  });

  it("right-to-left text and marks that are not overrides are names like any other", async () => {
    const client = new Client();
    const res = await client.json("POST", "/api/auth/signup", { email: uniqueEmail("rtl"), password: PASSWORD, name: "דוד\u200F כהן", community: "نادي" });
    expect(res.status).toBe(201);
  });
});

interface OutboxRow {
  recipient: string;
  template: string;
  subject: string;
  body: string;
}

async function mailTo(recipient: string): Promise<OutboxRow[]> {
  const { results } = await env.DB.prepare("SELECT recipient, template, subject, body FROM outbox WHERE recipient = ? ORDER BY created_at, rowid")
    .bind(recipient)
    .all<OutboxRow>();
  return results;
}

/** An invitation from `admin`'s community to a new address, and the email it sent. */
async function invitationMail(admin: { client: Client; communityId?: string }): Promise<OutboxRow | undefined> {
  const email = uniqueEmail("invitee");
  expect((await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email, role: "member" })).status).toBe(201);
  const [mail] = await mailTo(email);
  return mail;
}

/** A member (reading `acceptLanguage`) joins `admin`'s community with an authenticator app, and `admin` (2FA turned on) resets them. */
async function resetByAdmin(admin: { client: Client; communityId?: string }, acceptLanguage: string): Promise<{ id: string; email: string }> {
  await enableTOTP(admin.client);
  const member = await newUser({ name: "Member", acceptLanguage });
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: member.email, role: "member" });
  expect((await member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
  await enableTOTP(member.client);
  await reauth(admin.client);
  expect((await admin.client.json("POST", `/api/communities/${admin.communityId}/members/${member.id}/reset-2fa`, { password: PASSWORD })).status).toBe(200);
  return member;
}

/** The labelled lines and fixed subjects of each language, typed here (not read from the catalogues). */
const WORDS = {
  en: {
    acceptLanguage: "en-US,en;q=0.9",
    invitationSubject: "You are invited to join a community",
    community: "Community name, as its admins typed it: ",
    invitedBy: "Invited by, as they typed their name: ",
    admin: "Admin, as they typed their name: ",
  },
  fr: {
    acceptLanguage: "fr-FR,fr;q=0.9",
    invitationSubject: "Invitation à rejoindre une communauté",
    community: "Communauté (nom tel que saisi par ses admins)\u00a0: ",
    invitedBy: "Invitation envoyée par (nom tel que saisi par cette personne)\u00a0: ",
    admin: "Admin (nom tel que saisi par cette personne)\u00a0: ",
  },
};

describe.each(Object.entries(WORDS))("names chosen by others in emails (%s)", (_lang, words) => {
  it("the invitation's subject names no community and no inviter; the body quotes both as data on lines of their own", async () => {
    const community = 'Account Security Team: "verify now" at https://evil.example';
    const inviterName = "Support <support@bank.example>";
    const admin = await newUser({ community, name: inviterName, acceptLanguage: words.acceptLanguage });
    const mail = await invitationMail(admin);
    expect(mail?.template).toBe("invitation");
    expect(mail?.subject).toBe(words.invitationSubject);
    // JSON quoting: the name cannot close its quotes early or start a line of its own (its link-like parts defused, R13o).
    expect(mail?.body).toContain(`\n${words.community}${JSON.stringify('Account Security Team: "verify now" at https[:]//evil[.]example')}\n`);
    expect(mail?.body).toContain(`\n${words.invitedBy}${JSON.stringify("Support <support@bank[.]example>")}\n`);
  });

  it("the reset email to a member quotes the admin's and the community's names as data, and its subject names neither", async () => {
    const marker = "Zq7 Mallory";
    const admin = await newUser({ community: `${marker} Community`, name: `${marker} Admin` });
    const member = await resetByAdmin(admin, words.acceptLanguage);
    const mails = await mailTo(member.email);
    const resetMail = mails.find((m) => m.template === "recovery_code_issued");
    expect(resetMail?.body).toContain(`\n${words.admin}${JSON.stringify(`${marker} Admin`)}\n`);
    expect(resetMail?.body).toContain(`\n${words.community}${JSON.stringify(`${marker} Community`)}\n`);
    expect(mails.length).toBeGreaterThan(1);
    for (const row of mails) expect(row.subject, row.template).not.toContain(marker);
  });
});

/**
 * A name quoted as data is still text a mail client may turn into a link: `https://…`, `www.…` or a bare
 * `evil.example`, clickable in an email from our own domain. Quoted names are defused by the rule in docs/email.md
 * "Names someone typed" (docs/security.md R13o): `://` becomes `[:]//` and a dot between two letters or digits
 * becomes `[.]`. Typed here, not computed with the service's helper.
 */
describe.each(Object.entries(WORDS))("names that look like links, in emails (%s)", (_lang, words) => {
  const linkish = /:\/\/|www\.|[\p{L}\p{N}][.\u3002\uFF0E\uFF61][\p{L}\p{N}]/u;

  it("are quoted defused and readable, and the email's own link stays intact (docs/security.md R13o)", async () => {
    const community = `Reset here: https://evil.example/login ${Math.random().toString(36).slice(2, 6)}`;
    const inviterName = "www.evil.example or evil\uFF0Eexample";
    const admin = await newUser({ community, name: inviterName, acceptLanguage: words.acceptLanguage });
    const mail = await invitationMail(admin);
    const lines = mail?.body.split("\n") ?? [];
    const communityLine = lines.find((l) => l.startsWith(words.community));
    const inviterLine = lines.find((l) => l.startsWith(words.invitedBy));
    expect(communityLine).toBe(`${words.community}${JSON.stringify(community.replace("https://evil.example", "https[:]//evil[.]example"))}`);
    expect(inviterLine).toBe(`${words.invitedBy}"www[.]evil[.]example or evil[.]example"`);
    for (const line of [communityLine, inviterLine]) expect(line).not.toMatch(linkish);
    // Our own link, on its own line, is left as it is.
    expect(lines.some((l) => /^https?:\/\/[^\s[\]]+\/invitations/.test(l))).toBe(true);
  });

  it("the reset email to a member quotes a link-like admin name defused", async () => {
    const admin = await newUser({ community: `Acme ${Math.random().toString(36).slice(2, 6)}`, name: "Support at evil.example" });
    const member = await resetByAdmin(admin, words.acceptLanguage);
    const resetMail = (await mailTo(member.email)).find((m) => m.template === "recovery_code_issued");
    expect(resetMail?.body).toContain(`\n${words.admin}"Support at evil[.]example"\n`);
  });

  // A letter is more than one code point in many scripts: a label may end in a vowel sign (`हिंदी`, `ดี`: \p{M}), and
  // a soft hyphen or a zero-width space (\p{Cf}, which the `Name` schema accepts) is invisible, and dropped by
  // hostnames (UTS #46 maps both to nothing). Each left the dot beside it as it was, a bare domain name in the quote.
  it("defuses a dot after a combining mark or beside an invisible character, as after any letter (docs/security.md R13s)", async () => {
    const community = `Pay at हिंदी.example ${Math.random().toString(36).slice(2, 6)}`;
    const inviterName = "evil\u00AD.example and evil.\u200Bexample";
    const admin = await newUser({ community, name: inviterName, acceptLanguage: words.acceptLanguage });
    const mail = await invitationMail(admin);
    const lines = mail?.body.split("\n") ?? [];
    expect(lines.find((l) => l.startsWith(words.community))).toBe(`${words.community}${JSON.stringify(community.replace("हिंदी.", "हिंदी[.]"))}`);
    expect(lines.find((l) => l.startsWith(words.invitedBy))).toBe(`${words.invitedBy}${JSON.stringify("evil\u00AD[.]example and evil[.]\u200Bexample")}`);
  });
});

describe("invitations are throttled: at most 20 per admin per hour and 100 per community per day", () => {
  const throttle = (key: string) => env.THROTTLE.get(env.THROTTLE.idFromName(key));

  /** Moves a throttle's recorded invitations `ms` into the past, as if that much time had passed. */
  async function age(key: string, ms: number): Promise<void> {
    await runInDurableObject(throttle(key), async (_instance, state) => {
      const times = state.storage.kv.get<number[]>("window");
      expect(times, key).toBeDefined();
      state.storage.kv.put(
        "window",
        (times ?? []).map((t) => t - ms),
      );
    });
  }

  const invite = (admin: { client: Client; communityId?: string }) =>
    admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email: uniqueEmail("inv"), role: "member" });

  it("30 invitations at once from one admin: exactly 20 are sent, 10 get 429 with Retry-After within the hour", async () => {
    const admin = await newUser({ community: "Flood" });
    const answers = await Promise.all(Array.from({ length: 30 }, () => invite(admin)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    for (const res of answers.filter((r) => r.status === 429)) {
      expect((await problemOf(res)).code).toBe("too_many_attempts");
      const retryAfter = Number(res.headers.get("Retry-After"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
    }
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM invitations WHERE community_id = ?").bind(admin.communityId).all<{ n: number }>();
    expect(results[0]?.n).toBe(20);
  });

  it("an hour later the admin may send 20 more; the community's 100 a day hold across admins and hours", async () => {
    const admin = await newUser({ community: "Daily" });
    const cid = admin.communityId as string;
    for (let hour = 0; hour < 5; hour++) {
      for (let i = 0; i < 20; i++) expect((await invite(admin)).status, `hour ${hour}, invitation ${i + 1}`).toBe(201);
      expect((await invite(admin)).status).toBe(429);
      await age(`invitations-admin:${admin.id}`, 60 * 60_000);
      await age(`invitations-community:${cid}`, 60 * 60_000);
      // The admin's address has its own hour (docs/security.md R9n): it passes too.
      await age(`invitations-client:${admin.client.ip}`, 60 * 60_000);
    }
    // 100 sent within the day: a fresh hour for the admin, but the community is full.
    const refused = await invite(admin);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(18 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(19 * 3600 + 1);
    // A day after the first ones, there is room again.
    await age(`invitations-community:${cid}`, 19 * 60 * 60_000);
    expect((await invite(admin)).status).toBe(201);
  });

  it("a refused invitation (already a member) does not count", async () => {
    const admin = await newUser({ community: "Refunds" });
    for (let i = 0; i < 25; i++) {
      const res = await admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email: admin.email, role: "member" });
      expect(res.status).toBe(409);
    }
    expect((await invite(admin)).status).toBe(201);
  });
});
