import type { RequestMeta } from "../env";
import { AppError } from "../http/errors";
import { newId } from "../lib/random";
import { hashPassword, type PasswordParams } from "./passwords";
import type { SessionUser } from "./session";

export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
}

export async function findUserByEmail(db: D1Database, email: string): Promise<UserRow | null> {
  return db.prepare("SELECT id, email, name, password_hash FROM users WHERE email = ?").bind(email).first<UserRow>();
}

export async function findUserById(db: D1Database, id: string): Promise<UserRow | null> {
  return db.prepare("SELECT id, email, name, password_hash FROM users WHERE id = ?").bind(id).first<UserRow>();
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
  const statements = [
    db
      .prepare("INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING")
      .bind(id, input.email, input.name, passwordHash, now),
  ];
  let community: { id: string; name: string; role: "admin" } | null = null;
  if (input.community) {
    community = { id: newId(), name: input.community, role: "admin" };
    // Guarded by the user's existence so a lost race leaves no orphan community.
    statements.push(
      db
        .prepare("INSERT INTO communities (id, name, created_at) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)")
        .bind(community.id, community.name, now, id),
      db
        .prepare("INSERT INTO memberships (community_id, user_id, role, joined_at) SELECT ?, ?, 'admin', ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)")
        .bind(community.id, id, now, id),
    );
  }
  statements.push(
    db
      .prepare("INSERT INTO events (id, user_id, type, at, ip, user_agent) SELECT ?, ?, 'signed_up', ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)")
      .bind(newId(), id, now, meta.ip, meta.userAgent, id),
  );
  const [inserted] = await db.batch(statements);
  if (inserted?.meta.changes !== 1) throw new AppError("email_taken", "An account with this email already exists");
  return { user: { id, email: input.email, name: input.name }, community };
}
