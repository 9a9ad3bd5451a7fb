import { eventStatement, securityEvent } from "../audit/events";
import { requiredBySql, requiredByStatement } from "../communities/store";
import { trustedBrowsersAllowedSql } from "../communities/trusted-policy";
import type { RequestMeta } from "../env";
import { AppError } from "../http/errors";
import { newId } from "../lib/random";
import { prepare } from "../lib/statement";
import { type Lang, storedLang } from "../notify/language";
import type { Session, SessionUser } from "../session";
import { hashPassword, type PasswordParams } from "./passwords";

/** The D1 statements of accounts: users, their first community, the listing copies a login stamps. Sessions: session-store.ts. */

export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  /** The language of the user's last login (docs/email.md "Which language"); null before one. */
  lang: string | null;
  /**
   * D1's copy of the user's session epoch, read in the same row as the password hash: a login opens
   * its session at no later epoch than this one, so a password change still on its way here ends it too.
   */
  session_epoch: number;
}

const USER_COLUMNS = "id, email, name, password_hash, lang, session_epoch";

export async function findUserByEmail(db: D1Database, email: string): Promise<UserRow | null> {
  return db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`).bind(email).first<UserRow>();
}

/**
 * What the password step of a login decides with, beside the user's row.
 * Read in the same statement, before the hash: one D1 round trip before the
 * hash and none after it, where the route used to read each on its own
 * (docs/architecture.md "CPU, hop by hop"; why reading them this early
 * changes no outcome: docs/security.md "What the password step reads, and
 * when").
 */
export interface LoginUser extends UserRow {
  /** A full login of this account is on record: a browser without a device cookie is news (src/auth/new-browser.ts). */
  loggedInBefore: boolean;
  /** Every community of the user allows remembered browsers (src/communities/trusted-policy.ts). */
  trustedBrowsersAllowed: boolean;
  /** When a community's 2FA policy is due for this user, or null (src/communities/store.ts `requiredByStatement`). */
  requiredBy: number | null;
}

/**
 * The login's `findUserByEmail`. Only the login pays for the subqueries: the
 * password change and the device link find the user without them. Each is
 * an indexed lookup by the user's id and runs only when the email matches.
 */
export async function findLoginUser(db: D1Database, email: string): Promise<LoginUser | null> {
  const row = await db
    .prepare(
      `SELECT ${USER_COLUMNS},
         EXISTS (SELECT 1 FROM events e WHERE e.user_id = u.id AND e.type = 'logged_in') AS logged_in_before,
         ${trustedBrowsersAllowedSql("u.id")} AS trusted_browsers_allowed,
         (${requiredBySql("u.id")}) AS required_by
       FROM users u WHERE u.email = ?`,
    )
    .bind(email)
    .first<UserRow & { logged_in_before: number; trusted_browsers_allowed: number; required_by: number | null }>();
  if (!row) return null;
  const { logged_in_before, trusted_browsers_allowed, required_by, ...user } = row;
  return { ...user, loggedInBefore: logged_in_before === 1, trustedBrowsersAllowed: trusted_browsers_allowed === 1, requiredBy: required_by };
}

/**
 * The user's stored password hash, for a batch that must read it in the same transaction as its write (an
 * enrollment's first method, whose device token carries the password's generation: src/auth/device.ts).
 */
export function passwordHashStatement(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId);
}

export async function findUserById(db: D1Database, id: string): Promise<UserRow | null> {
  return db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).bind(id).first<UserRow>();
}

/**
 * Creates the account and, when asked, a community it administers, in one
 * batch. The unique email decides a race between two signups.
 */
export async function createAccount(
  db: D1Database,
  input: { email: string; password: string; name: string; community?: string | undefined },
  params: PasswordParams,
  meta: RequestMeta,
): Promise<{ user: SessionUser; community: { id: string; name: string; role: "admin" } | null }> {
  const passwordHash = await hashPassword(input.password, params);
  const now = Date.now();
  const id = newId();
  // Everything after the user row is guarded by its existence, so a lost race leaves no orphan.
  const userExists = { sql: "EXISTS (SELECT 1 FROM users WHERE id = ?)", params: [id] };
  const statements = [
    db
      .prepare("INSERT INTO users (id, email, name, password_hash, created_at, lang) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING")
      .bind(id, input.email, input.name, passwordHash, now, meta.lang),
  ];
  let community: { id: string; name: string; role: "admin" } | null = null;
  if (input.community) {
    community = { id: newId(), name: input.community, role: "admin" };
    statements.push(
      db.prepare(`INSERT INTO communities (id, name, created_at) SELECT ?, ?, ? WHERE ${userExists.sql}`).bind(community.id, community.name, now, id),
      db
        .prepare(`INSERT INTO memberships (community_id, user_id, role, joined_at) SELECT ?, ?, 'admin', ? WHERE ${userExists.sql}`)
        .bind(community.id, id, now, id),
    );
  }
  statements.push(prepare(db, eventStatement(securityEvent("signed_up", id, meta, now), userExists)));
  const [inserted] = await db.batch(statements);
  if (inserted?.meta.changes !== 1) throw new AppError("email_taken", "An account with this email already exists");
  return { user: { id, email: input.email, name: input.name }, community };
}

/**
 * A hash made at the current cost replaces one made at a lower cost (at a successful login), only while
 * the stored hash is still the one the password was checked against: a change or reset that reached D1
 * during the login must not be overwritten by a new hash of the old password.
 */
export function rehashStatement(db: D1Database, userId: string, passwordHash: string, checkedHash: string): D1PreparedStatement {
  return db.prepare("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?").bind(passwordHash, userId, checkedHash);
}

/**
 * A completed login remembers its language, for the emails no request of the
 * user's causes (docs/email.md "Which language"). Writes only when it changed.
 */
export function languageStatement(db: D1Database, userId: string, lang: Lang): D1PreparedStatement {
  return db.prepare("UPDATE users SET lang = ? WHERE id = ? AND lang IS NOT ?").bind(lang, userId, lang);
}

/** The stored language of the account that owns an email address, if there is one. */
export async function langOfEmail(db: D1Database, email: string): Promise<Lang | null> {
  return storedLang(await db.prepare("SELECT lang FROM users WHERE email = ?").bind(email).first<string | null>("lang"));
}

/** `logged_in`, with the method that completed the login. */
export function loggedInStatement(
  db: D1Database,
  userId: string,
  meta: Pick<RequestMeta, "ip" | "userAgent">,
  now: number,
  method: string,
): D1PreparedStatement {
  return prepare(db, eventStatement(securityEvent("logged_in", userId, meta, now, { data: { method } })));
}

/** What `/api/me` shows: the user, the stage, their communities and the D1 copy of their two-factor state (one batch). */
export async function meView(db: D1Database, session: Session) {
  const [communities, user, required] = await db.batch([
    db
      .prepare(
        `SELECT c.id, c.name, m.role FROM memberships m JOIN communities c ON c.id = m.community_id
         WHERE m.user_id = ? ORDER BY c.name`,
      )
      .bind(session.user.id),
    db.prepare("SELECT two_factor_enabled, preferred FROM users WHERE id = ?").bind(session.user.id),
    requiredByStatement(db, session.user.id),
  ]);
  const row = (user?.results[0] ?? { two_factor_enabled: 0, preferred: null }) as { two_factor_enabled: number; preferred: "totp" | "webauthn" | null };
  return {
    user: session.user,
    stage: session.stage,
    communities: (communities?.results ?? []) as { id: string; name: string; role: "admin" | "member" }[],
    twoFactor: twoFactorView(
      row.two_factor_enabled === 1,
      row.preferred,
      (required?.results[0] as { required_by: number | null } | undefined)?.required_by ?? null,
    ),
  };
}

function twoFactorView(enabled: boolean, preferred: "totp" | "webauthn" | null, requiredBy: number | null) {
  const view: { enabled: boolean; preferred: "totp" | "webauthn" | null; requiredBy?: string } = { enabled, preferred };
  // Only someone who still owes it is told the date.
  if (!enabled && requiredBy !== null) view.requiredBy = new Date(requiredBy).toISOString();
  return view;
}
