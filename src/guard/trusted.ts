import { type Change, eventBy, eventCausedBy } from "./effects";
import type { Caller, Outcome, TrustedBrowserView } from "./types";

/**
 * Trusted browsers ("Remember this browser for 30 days", docs/security.md
 * "Trusted browsers"): the guard keeps, per remembered browser, the SHA-256
 * of its cookie's token (hashed in the Worker, so the token never reaches
 * storage), when it was remembered, last used and expires, and where it was
 * last used from. Synchronous bodies, each one step.
 *
 * A remembered browser is a second factor held by the browser: it is checked
 * and its use recorded in the same step as the login's stage is decided, and
 * everything that forgets it (Forget, Forget all, a reset, disabling 2FA,
 * removing a method, a password changed or reset) deletes the rows in the step that
 * makes the change, so a copy of the cookie is refused from that step on.
 */

/** 30 days from the moment it was remembered; using it does not extend it (docs/security.md "Trusted browsers"). */
export const TRUSTED_BROWSER_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Beyond this many, remembering one more forgets the least recently used: storage per user stays bounded. */
export const MAX_TRUSTED_BROWSERS = 20;

interface Row {
  id: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  [key: string]: SqlStorageValue;
}

/** Expired rows are refused by every check (expires_at > now); this only frees their storage. */
export function purgeExpired(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM trusted_browsers WHERE expires_at <= ?", now);
}

/**
 * The login's check: true when `hash` names a browser of this user remembered
 * less than 30 days ago and not forgotten since; records its use.
 */
export function useTrustedBrowser(sql: SqlStorage, caller: Caller, hash: string): boolean {
  const used = sql
    .exec(
      "UPDATE trusted_browsers SET last_used_at = ?, ip = ?, user_agent = ? WHERE hash = ? AND expires_at > ? RETURNING id",
      caller.now,
      caller.ip,
      caller.userAgent,
      hash,
      caller.now,
    )
    .toArray();
  return used.length === 1;
}

export function rememberBrowser(sql: SqlStorage, caller: Caller, id: string, hash: string): Change<{ expiresAt: number }> {
  purgeExpired(sql, caller.now);
  const expiresAt = caller.now + TRUSTED_BROWSER_TTL_MS;
  sql.exec(
    "INSERT OR REPLACE INTO trusted_browsers (id, hash, created_at, last_used_at, expires_at, ip, user_agent) VALUES (?, ?, ?, NULL, ?, ?, ?)",
    id,
    hash,
    caller.now,
    expiresAt,
    caller.ip,
    caller.userAgent,
  );
  sql.exec(
    `DELETE FROM trusted_browsers WHERE id NOT IN (
       SELECT id FROM trusted_browsers ORDER BY COALESCE(last_used_at, created_at) DESC LIMIT ?)`,
    MAX_TRUSTED_BROWSERS,
  );
  return { result: { expiresAt }, effect: { statements: [], events: [eventBy(caller, "trusted_browser_added", { browserId: id })] } };
}

export function listTrustedBrowsers(sql: SqlStorage, now: number, currentHash: string | null): TrustedBrowserView[] {
  const rows = sql.exec<Row>("SELECT * FROM trusted_browsers WHERE expires_at > ? ORDER BY created_at DESC, rowid DESC", now).toArray();
  return rows.map((r) => ({
    id: r.id,
    current: currentHash !== null && r.hash === currentHash,
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
    ip: r.ip,
    userAgent: r.user_agent,
  }));
}

/** Forget one browser of this user's; an id that is not theirs (or has expired) is not found. */
export function forgetTrustedBrowser(sql: SqlStorage, caller: Caller, id: string): Change<Outcome<{ hash: string }>> {
  const gone = sql.exec<{ hash: string }>("DELETE FROM trusted_browsers WHERE id = ? AND expires_at > ? RETURNING hash", id, caller.now).toArray()[0];
  if (!gone) return { result: { ok: false, reason: "not_found" }, effect: null };
  return {
    result: { ok: true, hash: gone.hash },
    effect: { statements: [], events: [eventBy(caller, "trusted_browser_removed", { browserId: id, count: 1 })] },
  };
}

/**
 * Forget every browser of the user. Called inside the step of any change that
 * must forget them (a reset, a disable, a method removed: see manage.ts and
 * reset.ts) and by "Forget all". Returns how many there were.
 */
export function forgetAllTrustedBrowsers(sql: SqlStorage): number {
  return sql.exec("DELETE FROM trusted_browsers RETURNING id").toArray().length;
}

/**
 * "Forget all", or a change made outside the guard's own steps (a password changed, a community's policy): one
 * event when any was forgotten. `actorId` when someone else's request asked for it (an admin's policy change),
 * with `about`, what the person reading their log needs to know why (the community whose policy it was).
 */
export function forgetAll(
  sql: SqlStorage,
  caller: Caller,
  reason: string,
  actorId = caller.user.id,
  about: { communityName?: string } = {},
): Change<{ count: number }> {
  const count = forgetAllTrustedBrowsers(sql);
  if (count === 0) return { result: { count }, effect: null };
  return { result: { count }, effect: { statements: [], events: [eventCausedBy(caller, actorId, "trusted_browser_removed", { count, reason, ...about })] } };
}
