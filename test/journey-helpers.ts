import { expect } from "vitest";
import { type AdminWorld, adminWorld } from "./contract";
import { Client, enableTOTP, PASSWORD, previousStepCode, reauth, type TestUser, totpCode, uniqueEmail } from "./helpers";
import { recoveryClient, resetMember } from "./reset-helpers";

/**
 * One member's life through every security event the service records and
 * mails, each from a known client (IP and browser), so the event and email
 * tests can check what was recorded and sent against what happened.
 */

/** Makes every request of this client carry a User-Agent, as a browser's would. */
export function withUserAgent<C extends Client>(client: C, userAgent: string): C {
  const request = client.request.bind(client);
  client.request = (method, path, body, headers = {}) => request(method, path, body, { "User-Agent": userAgent, ...headers });
  return client;
}

/** Real User-Agent strings, and how an email describes each (src/notify/user-agent.ts). */
export const AGENTS = {
  laptop: ["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"],
  desk: ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"],
  phone: [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
    "Safari on iOS",
  ],
  guesser: ["curl/8.5.0", "curl"],
  newLaptop: ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", "Safari on macOS"],
} as const satisfies Record<string, readonly [string, string]>;

export interface Happened {
  type: string;
  ip: string;
  userAgent: string;
  /** How the email names the browser. */
  described: string;
  /** Set when someone else did it (an admin's reset). */
  actorId?: string;
}

export interface Journey {
  world: AdminWorld;
  member: TestUser;
  /** Every event expected in the member's log, oldest first. */
  happened: Happened[];
  /** Every code, secret, password and token the test saw; none may appear in an email. */
  secrets: string[];
  /** The address the invitation went to (no account). */
  invitee: string;
  /** The device that recovered after the reset: the member's one live session. */
  recovering: Client;
}

/** A 6-digit code that is neither the current nor the previous step's: certainly wrong. */
function wrongTOTP(secret: string): string {
  const valid = new Set([totpCode(secret), totpCode(secret, Date.now() - 30_000), totpCode(secret, Date.now() + 30_000)]);
  for (let n = 0; ; n++) {
    const candidate = String(100000 + n * 7919).padStart(6, "0");
    if (!valid.has(candidate)) return candidate;
  }
}

async function addTOTP(client: Client, name: string): Promise<{ id: string; secret: string; backupCodes: string[] }> {
  const start = await client.json("POST", "/api/security/totp", { name });
  expect(start.status).toBe(201);
  const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
  expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
  return { id: start.body.id, secret: start.body.secret, backupCodes: confirm.body.backupCodes ?? [] };
}

export async function everyEvent(): Promise<Journey> {
  const world = await adminWorld();
  const { admin } = world;
  const member = world.member;
  const secrets: string[] = [PASSWORD];
  const happened: Happened[] = [];
  const agents = new Map<Client, readonly [string, string]>();
  const by = (client: Client, type: string, extra: Partial<Happened> = {}) => {
    const [userAgent, described] = agents.get(client) ?? ["", ""];
    happened.push({ type, ip: client.ip, userAgent, described, ...extra });
  };
  const ua = <C extends Client>(client: C, agent: readonly [string, string]): C => {
    agents.set(client, agent);
    return withUserAgent(client, agent[0]);
  };
  ua(member.client, AGENTS.laptop);
  ua(admin.client, AGENTS.desk);
  // Only an admin with 2FA may reset.
  const adminApp = await enableTOTP(admin.client);
  secrets.push(adminApp.secret, ...adminApp.backupCodes);

  // 2FA on with a first app.
  const first = await enableTOTP(member.client);
  secrets.push(first.secret, ...first.backupCodes);
  by(member.client, "two_factor_enabled");
  by(member.client, "method_added");

  // A second app, renamed; a preference.
  const tablet = await addTOTP(member.client, "Tablet");
  secrets.push(tablet.secret);
  by(member.client, "method_added");
  expect((await member.client.json("PATCH", `/api/security/methods/${tablet.id}`, { name: "Old tablet" })).status).toBe(200);
  by(member.client, "method_renamed");
  expect((await member.client.json("PUT", "/api/security/preferred", { method: "totp" })).status).toBe(200);
  by(member.client, "preferred_method_changed");

  // New backup codes; one used to log in from elsewhere.
  const regenerated = await member.client.json("POST", "/api/security/backup-codes");
  expect(regenerated.status).toBe(200);
  secrets.push(...regenerated.body.codes);
  by(member.client, "backup_codes_regenerated");
  const phone = ua(new Client(), AGENTS.phone);
  expect((await phone.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD })).body.status).toBe("second_factor_required");
  expect((await phone.json("POST", "/api/auth/verify", { method: "backup_code", code: regenerated.body.codes[0] })).status).toBe(200);
  secrets.push(phone.cookie ?? "");
  by(phone, "backup_code_used");

  // The second app removed.
  expect((await member.client.request("DELETE", `/api/security/methods/${tablet.id}`)).status).toBe(204);
  by(member.client, "method_removed");

  // Someone with the password guesses codes until login locks.
  const guesser = ua(new Client(), AGENTS.guesser);
  await guesser.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD });
  const wrong = wrongTOTP(first.secret);
  for (let i = 0; i < 10; i++) expect((await guesser.json("POST", "/api/auth/verify", { method: "totp", code: wrong })).status).toBe(401);
  by(guesser, "locked_out");

  // 2FA off, then on again.
  expect((await member.client.json("POST", "/api/security/disable", { password: PASSWORD })).status).toBe(200);
  by(member.client, "two_factor_disabled");
  await reauth(member.client);
  const again = await enableTOTP(member.client);
  secrets.push(again.secret, ...again.backupCodes);
  by(member.client, "two_factor_enabled");
  by(member.client, "method_added");

  // The admin resets; the member recovers from another device and enrolls.
  const { recoveryCode } = await resetMember(world);
  secrets.push(recoveryCode);
  by(admin.client, "recovery_code_issued", { actorId: admin.id });
  const recovering = ua(await recoveryClient(member), AGENTS.newLaptop);
  expect((await recovering.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
  by(recovering, "recovery_code_used");
  const fresh = await addTOTP(recovering, "New phone");
  secrets.push(fresh.secret, ...fresh.backupCodes, recovering.cookie ?? "", member.client.cookie ?? "");
  by(recovering, "two_factor_enabled");
  by(recovering, "method_added");

  // An invitation to an address with no account.
  const invitee = uniqueEmail("invitee");
  expect((await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: invitee, role: "member" })).status).toBe(201);

  return { world, member, happened, secrets: secrets.filter((s) => s.length > 0), invitee, recovering };
}
