import { newId } from "../lib/random";
import type { Statement } from "../lib/statement";

/** Security event types (docs/api.md lists the first eleven; more may be added). */
export const EVENT_TYPES = [
  "two_factor_enabled",
  "two_factor_disabled",
  "method_added",
  "method_renamed",
  "method_removed",
  "backup_codes_regenerated",
  "backup_code_used",
  "recovery_code_issued",
  "recovery_code_used",
  "locked_out",
  "key_counter_anomaly",
  "preferred_method_changed",
  "signed_up",
  "logged_in",
  "invitation_sent",
  "invitation_accepted",
  "member_reset",
  "recovery_code_expired",
  "member_left",
  "member_removed",
  "session_revoked",
  "new_browser_login",
  "policy_changed",
  "trusted_browser_added",
  "trusted_browser_removed",
  "email_verified",
  "password_changed",
  "password_reset",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Names the service once wrote for an event type, read as the type's name now.
 * migrations/0009_policy_changed_event.sql renames the rows already written,
 * but docs/deploy.md applies migrations before the new code is deployed, so
 * the previous release keeps writing the old name until then (and a guard's
 * pending record written by it may reach D1 later still).
 */
const RENAMED_TYPES: ReadonlyMap<string, EventType> = new Map([["community_policy_changed", "policy_changed"]]);

/** The actor of what the service's operator does (`POST /api/ops/reset-2fa`): no user has this id. */
export const OPERATOR_ACTOR = "operator";

export interface SecurityEvent {
  id: string;
  userId: string;
  type: EventType;
  at: number;
  ip: string | null;
  userAgent: string | null;
  /** Who did it, when not the user (an admin's reset). */
  actorId?: string | null;
  /** Non-secret details: a method's name and type, how many codes remain. */
  data?: Record<string, string | number | null>;
}

/** A new event of `userId`'s, from where `from` says (a request, or the guard's caller). */
export function securityEvent(
  type: EventType,
  userId: string,
  from: { ip: string | null; userAgent: string | null },
  at: number,
  extra: Pick<SecurityEvent, "actorId" | "data"> = {},
): SecurityEvent {
  const e: SecurityEvent = { id: newId(), userId, type, at, ip: from.ip, userAgent: from.userAgent };
  if (extra.actorId !== undefined) e.actorId = extra.actorId;
  if (extra.data) e.data = extra.data;
  return e;
}

/**
 * The one way an event is written. Idempotent by id, so a retried write never
 * records an event twice. With `onlyIf`, D1 writes it only when that condition
 * holds when the statement runs, inside the same batch as the change it
 * records (an account that won its signup race, an invitation this request
 * claimed): the event and the change land together or not at all.
 */
export function eventStatement(e: SecurityEvent, onlyIf?: Statement): Statement {
  const values = [e.id, e.userId, e.type, e.at, e.ip, e.userAgent, e.actorId ?? null, e.data ? JSON.stringify(e.data) : null];
  const columns = "INSERT OR IGNORE INTO events (id, user_id, type, at, ip, user_agent, actor_id, data)";
  if (!onlyIf) return { sql: `${columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, params: values };
  return { sql: `${columns} SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${onlyIf.sql}`, params: [...values, ...onlyIf.params] };
}

export interface EventView {
  type: string;
  at: string;
  ip?: string;
  userAgent?: string;
  actor?: { id: string; name: string } | null;
  data?: Record<string, unknown>;
}

export async function recentEvents(db: D1Database, userId: string, limit = 20): Promise<EventView[]> {
  const { results } = await db
    .prepare(
      `SELECT e.type, e.at, e.ip, e.user_agent, e.actor_id, e.data, a.name AS actor_name
       FROM events e LEFT JOIN users a ON a.id = e.actor_id
       WHERE e.user_id = ? ORDER BY e.at DESC, e.rowid DESC LIMIT ?`,
    )
    .bind(userId, limit)
    .all<{ type: string; at: number; ip: string | null; user_agent: string | null; actor_id: string | null; data: string | null; actor_name: string | null }>();
  return results.map((r) => {
    const view: EventView = { type: RENAMED_TYPES.get(r.type) ?? r.type, at: new Date(r.at).toISOString() };
    // Someone else's act is shown without their address and browser, even in a row an earlier release wrote with them (docs/security.md R10f).
    const own = r.actor_id === null || r.actor_id === userId;
    if (own && r.ip) view.ip = r.ip;
    if (own && r.user_agent) view.userAgent = r.user_agent;
    if (r.actor_id) view.actor = { id: r.actor_id, name: r.actor_name ?? "" };
    if (r.data) view.data = JSON.parse(r.data) as Record<string, unknown>;
    return view;
  });
}
