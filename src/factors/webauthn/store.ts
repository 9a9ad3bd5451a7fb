import { fromBase64URL, toBase64URL } from "../../lib/encoding";
import { randomBytes } from "../../lib/random";

/**
 * The guard's SQL for security keys: challenges and credentials. Every
 * function takes the guard's SqlStorage and is synchronous, so a caller can
 * make a check and its write one step (docs/architecture.md "Platform facts": nothing awaited between).
 */

/** A ceremony must finish within 5 minutes of its options (docs/webauthn.md). */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/**
 * Open challenges kept per session and purpose: a page asked for options again (a second tab, a retry)
 * still finishes, and asking again and again pushes out only the asker's own (docs/security.md R10b).
 */
export const CHALLENGES_PER_SESSION = 3;

export type ChallengePurpose = "registration" | "authentication";

export interface CredentialRow {
  id: string;
  credential_id: string;
  public_key: ArrayBuffer;
  counter: number;
  transports: string | null;
  device_type: string | null;
  backed_up: number;
  aaguid: string | null;
  name: string;
  created_at: number;
  last_used_at: number | null;
  [key: string]: SqlStorageValue;
}

export interface CredentialDescriptor {
  id: string;
  transports?: string[];
}

export interface NewCredential {
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  aaguid: string;
}

/**
 * 32 random bytes (WebAuthn §13.4.3: at least 16), base64url as the client will echo it in clientDataJSON,
 * bound to `session`: only that session can spend it (§13.4.3, docs/security.md R10b). The session's oldest
 * beyond CHALLENGES_PER_SESSION go first; then, past `total` for the purpose, the user's oldest. The caller
 * sizes `total` so that live sessions alone never reach it (src/guard/ceremonies.ts): it bounds storage,
 * it is not how one session's challenges make room.
 */
export function issueChallenge(
  sql: SqlStorage,
  purpose: ChallengePurpose,
  session: string,
  total: number,
  now: number,
): { challenge: string; expiresAt: number } {
  sql.exec("DELETE FROM challenges WHERE expires_at <= ?", now);
  sql.exec(
    `DELETE FROM challenges WHERE rowid IN
       (SELECT rowid FROM challenges WHERE purpose = ? AND session = ? ORDER BY expires_at DESC, rowid DESC LIMIT -1 OFFSET ?)`,
    purpose,
    session,
    CHALLENGES_PER_SESSION - 1,
  );
  sql.exec(
    "DELETE FROM challenges WHERE rowid IN (SELECT rowid FROM challenges WHERE purpose = ? ORDER BY expires_at DESC, rowid DESC LIMIT -1 OFFSET ?)",
    purpose,
    total - 1,
  );
  const challenge = toBase64URL(randomBytes(32));
  const expiresAt = now + CHALLENGE_TTL_MS;
  sql.exec("INSERT INTO challenges (challenge, purpose, session, expires_at) VALUES (?, ?, ?, ?)", challenge, purpose, session, expiresAt);
  return { challenge, expiresAt };
}

/**
 * Single use as one statement: the check (exists, right purpose, issued to this
 * session, not expired; the alarm that deletes expired rows may be late) and the
 * claim are the same DELETE, so of any number of parallel callers exactly one
 * gets the row. Another session's attempt leaves the row to its own session.
 */
export function consumeChallenge(sql: SqlStorage, challenge: string, purpose: ChallengePurpose, session: string, now: number): boolean {
  return (
    sql
      .exec(
        "DELETE FROM challenges WHERE challenge = ? AND purpose = ? AND session = ? AND expires_at > ? RETURNING challenge",
        challenge,
        purpose,
        session,
        now,
      )
      .toArray().length === 1
  );
}

/**
 * Drops the login challenges of half sessions the guard no longer keeps (logged out, passed, pushed out
 * by newer logins): a login challenge lives only as long as the half session it was issued to.
 */
export function dropOrphanLoginChallenges(sql: SqlStorage): void {
  sql.exec("DELETE FROM challenges WHERE purpose = 'authentication' AND session NOT IN (SELECT id FROM half_sessions)");
}

/**
 * What clientDataJSON says before anything is verified: the challenge the client claims to answer, read
 * without trusting it (it only names the stored challenge to claim; the signature, or for `none`
 * attestation the ceremony check, then proves it), and whether the ceremony ran inside a cross-origin
 * frame. Synchronous, so the claim can follow in the same step.
 */
export interface ClientData {
  challenge: string;
  /**
   * `crossOrigin` set, or a `topOrigin` named (WebAuthn §5.8.1): the page that asked is another site's
   * frame around ours. The service runs no ceremony there (docs/webauthn.md), and the library checks
   * neither at registration nor a `crossOrigin` without `topOrigin` (as Safari writes it) at login, so
   * both ceremonies refuse it themselves (docs/security.md R13e).
   */
  framed: boolean;
}

export function readClientData(response: unknown): ClientData | null {
  try {
    const encoded = (response as { response?: { clientDataJSON?: unknown } })?.response?.clientDataJSON;
    if (typeof encoded !== "string" || encoded.length > 8192) return null;
    const data = JSON.parse(new TextDecoder().decode(fromBase64URL(encoded))) as { challenge?: unknown; crossOrigin?: unknown; topOrigin?: unknown };
    if (typeof data.challenge !== "string" || data.challenge.length === 0 || data.challenge.length > 128) return null;
    return { challenge: data.challenge, framed: Boolean(data.crossOrigin) || data.topOrigin !== undefined };
  } catch {
    return null;
  }
}

export function listCredentials(sql: SqlStorage): CredentialDescriptor[] {
  return sql
    .exec<{ credential_id: string; transports: string | null }>("SELECT credential_id, transports FROM webauthn ORDER BY created_at")
    .toArray()
    .map((r) => {
      const d: CredentialDescriptor = { id: r.credential_id };
      const transports = r.transports ? (JSON.parse(r.transports) as string[]) : [];
      if (transports.length > 0) d.transports = transports;
      return d;
    });
}

export function findCredential(sql: SqlStorage, credentialId: string): CredentialRow | undefined {
  return sql.exec<CredentialRow>("SELECT * FROM webauthn WHERE credential_id = ?", credentialId).toArray()[0];
}

/** False when this user already has the credential (the table's UNIQUE constraint decides). */
export function insertCredential(sql: SqlStorage, id: string, name: string, c: NewCredential, now: number): boolean {
  const rows = sql
    .exec(
      `INSERT INTO webauthn (id, credential_id, public_key, counter, transports, device_type, backed_up, aaguid, name, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
      id,
      c.credentialId,
      c.publicKey,
      c.counter,
      JSON.stringify(c.transports),
      c.deviceType,
      c.backedUp ? 1 : 0,
      c.aaguid,
      name,
      now,
    )
    .toArray();
  return rows.length === 1;
}

/** Records a successful use: the new counter, the backup state (it may change, §6.1.3), the time. */
export function recordUse(sql: SqlStorage, id: string, counter: number, backedUp: boolean, now: number): void {
  sql.exec("UPDATE webauthn SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?", counter, backedUp ? 1 : 0, now, id);
}
