import { expect } from "vitest";
import { AGENTS, Client, withUserAgent } from "./client";
import { wrongTOTP } from "./codes";
import {
  type AdminWorld,
  addAuthenticatorApp,
  communityWithMember,
  enableTOTP,
  PASSWORD,
  reauth,
  recoveryClient,
  resetMember,
  type TestUser,
  uniqueEmail,
} from "./fixtures";

/**
 * One member's life through every security event the service records and
 * mails, each from a known client (IP and browser), so the event and email
 * tests can check what was recorded and sent against what happened.
 */

export interface Happened {
  type: string;
  /** Null when someone else did it: their address and browser are not the member's to see (docs/security.md R10c). */
  ip: string | null;
  userAgent: string | null;
  /** How the email names the browser (null: the email says no "From:"). */
  described: string | null;
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

export async function everyEvent(): Promise<Journey> {
  const world = await communityWithMember();
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
  const tablet = await addAuthenticatorApp(member.client, { name: "Tablet", reauth: false });
  secrets.push(tablet.secret);
  by(member.client, "method_added");
  expect((await member.client.json("PATCH", `/api/security/methods/${tablet.methodId}`, { name: "Old tablet" })).status).toBe(200);
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
  // The phone had never logged in to this account: the login, complete now, is announced.
  by(phone, "new_browser_login");

  // The second app removed.
  expect((await member.client.request("DELETE", `/api/security/methods/${tablet.methodId}`)).status).toBe(204);
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
  by(admin.client, "recovery_code_issued", { actorId: admin.id, ip: null, userAgent: null, described: null });
  const recovering = ua(await recoveryClient(member), AGENTS.newLaptop);
  expect((await recovering.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
  by(recovering, "recovery_code_used");
  const fresh = await addAuthenticatorApp(recovering, { name: "New phone", reauth: false });
  secrets.push(fresh.secret, ...(fresh.backupCodes ?? []), recovering.cookie ?? "", member.client.cookie ?? "");
  by(recovering, "two_factor_enabled");
  by(recovering, "method_added");

  // An invitation to an address with no account.
  const invitee = uniqueEmail("invitee");
  expect((await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: invitee, role: "member" })).status).toBe(201);

  return { world, member, happened, secrets: secrets.filter((s) => s.length > 0), invitee, recovering };
}
