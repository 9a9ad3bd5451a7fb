import { BACKUP_CODE_COUNT } from "../backup-codes/codes";
import { type Change, eventBy } from "./effects";
import { type PreparedCodes, replaceBackupCodes } from "./enroll";
import { bumpEpoch, effectivePreferred, epochStatements, listMethods, methodTypes, readState } from "./state";
import { forgetAllTrustedBrowsers } from "./trusted";
import type { MethodType, MethodView, Outcome, SessionCaller } from "./types";

/**
 * Changes a fully logged-in user makes to their own methods, each one
 * synchronous step that also records what D1 and the user's inbox must learn.
 */

function table(type: MethodType): "totp" | "webauthn" {
  return type === "totp" ? "totp" : "webauthn";
}

export function renameMethod(sql: SqlStorage, caller: SessionCaller, id: string, name: string): Change<Outcome<{ method: MethodView }>> {
  const method = listMethods(sql).find((m) => m.id === id);
  if (!method) return { result: { ok: false, reason: "not_found" }, effect: null };
  sql.exec(`UPDATE ${table(method.type)} SET name = ? WHERE id = ?`, name, id);
  return {
    result: { ok: true, method: { ...method, name } },
    effect: {
      statements: [{ sql: "UPDATE methods SET name = ? WHERE id = ? AND user_id = ?", params: [name, id, caller.user.id] }],
      events: [eventBy(caller, "method_renamed", { methodId: id, methodType: method.type, methodName: name, previousName: method.name })],
    },
  };
}

/** Removing a method ends every other session of the user (epoch); the last method cannot go (disable instead). */
export function removeMethod(sql: SqlStorage, caller: SessionCaller, id: string): Change<Outcome<{ epoch: number }>> {
  const methods = listMethods(sql);
  const method = methods.find((m) => m.id === id);
  if (!method) return { result: { ok: false, reason: "not_found" }, effect: null };
  if (methods.length === 1) return { result: { ok: false, reason: "last_method" }, effect: null };
  sql.exec(`DELETE FROM ${table(method.type)} WHERE id = ?`, id);
  // A browser remembered while this method was there is forgotten with it.
  forgetAllTrustedBrowsers(sql);
  const epoch = bumpEpoch(sql);
  const preferred = effectivePreferred(readState(sql), methodTypes(sql));
  sql.exec("UPDATE state SET preferred = ? WHERE id = 1", preferred);
  return {
    result: { ok: true, epoch },
    effect: {
      statements: [
        { sql: "DELETE FROM methods WHERE id = ? AND user_id = ?", params: [id, caller.user.id] },
        { sql: "UPDATE users SET preferred = ? WHERE id = ?", params: [preferred, caller.user.id] },
        ...epochStatements(caller.user.id, epoch, caller.sessionId),
      ],
      events: [eventBy(caller, "method_removed", { methodId: id, methodType: method.type, methodName: method.name })],
      mailTo: caller.user.email,
    },
  };
}

export function setPreferred(sql: SqlStorage, caller: SessionCaller, type: MethodType): Change<Outcome<{ preferred: MethodType }>> {
  if (!methodTypes(sql).includes(type)) return { result: { ok: false, reason: "not_enrolled" }, effect: null };
  sql.exec("UPDATE state SET preferred = ? WHERE id = 1", type);
  return {
    result: { ok: true, preferred: type },
    effect: {
      statements: [{ sql: "UPDATE users SET preferred = ? WHERE id = ?", params: [type, caller.user.id] }],
      events: [eventBy(caller, "preferred_method_changed", { methodType: type })],
    },
  };
}

/** New backup codes need 2FA on, checked before the codes are hashed and again when they are stored. */
export function hasMethods(sql: SqlStorage): boolean {
  return listMethods(sql).length > 0;
}

export function regenerateBackupCodes(sql: SqlStorage, caller: SessionCaller, fresh: PreparedCodes): Change<Outcome<{ codes: string[] }>> {
  if (!hasMethods(sql)) return { result: { ok: false, reason: "not_enrolled" }, effect: null };
  const codes = replaceBackupCodes(sql, fresh);
  return {
    result: { ok: true, codes },
    effect: { statements: [], events: [eventBy(caller, "backup_codes_regenerated", { count: BACKUP_CODE_COUNT })], mailTo: caller.user.email },
  };
}

/** Every method, code and challenge goes; every other session of the user ends. */
export function disable(sql: SqlStorage, caller: SessionCaller): Change<Outcome<{ epoch: number }>> {
  const wasEnabled = hasMethods(sql);
  wipeFactors(sql);
  const epoch = bumpEpoch(sql);
  return {
    result: { ok: true, epoch },
    effect: {
      statements: [
        { sql: "DELETE FROM methods WHERE user_id = ?", params: [caller.user.id] },
        { sql: "UPDATE users SET two_factor_enabled = 0, preferred = NULL WHERE id = ?", params: [caller.user.id] },
        ...epochStatements(caller.user.id, epoch, caller.sessionId),
      ],
      events: wasEnabled ? [eventBy(caller, "two_factor_disabled")] : [],
      mailTo: caller.user.email,
    },
  };
}

/** Every factor of the user, as a disable or an admin's reset removes them, remembered browsers included. */
export function wipeFactors(sql: SqlStorage): void {
  sql.exec("DELETE FROM totp");
  sql.exec("DELETE FROM webauthn");
  sql.exec("DELETE FROM backup_codes");
  sql.exec("DELETE FROM challenges");
  sql.exec("UPDATE state SET preferred = NULL WHERE id = 1");
  forgetAllTrustedBrowsers(sql);
}
