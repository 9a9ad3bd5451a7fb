// An admin reset of a user's second factors, and the user's way back in.
import { PASSWORD, stepOf, totpCode } from "./client.mjs";
import { isReload } from "./run-state.mjs";
import { fillSessions, login } from "./sessions.mjs";
import { fire } from "./verify.mjs";

/**
 * Admin reset, then `size` recovery sessions submit the one recovery code at
 * once, then re-enrollment. Before that, a second-step session and the full
 * session from before the reset must both have ended.
 */
export async function resetAndRecover(run, user, size) {
  const { stats } = run;
  await fillSessions(run, user, 1);
  const r = await run.admin.post(`/api/communities/${user.cid}/members/${user.id}/reset-2fa`, { password: PASSWORD }, "reset-2fa");
  if (r.status !== 200) return run.error(`reset: ${r.status} ${JSON.stringify(r.body)}`);
  stats.resets += 1;
  const code = r.body.recoveryCode;
  // Every code of the old app and every backup code died with the reset.
  const old = user.sessions.splice(0);
  const dead = [
    ...user.backupCodes.map((c) => ({ method: "backup_code", code: c, key: `${user.id}|backup|${c}` })),
    ...user.spentTOTP.map((t) => ({ method: "totp", code: t.code, key: t.key })),
    ...user.deadCodes,
  ];
  user.backupCodes = [];
  user.spentTOTP = [];
  user.deadCodes = dead;
  // Every session of the user ended with the reset, even one holding the old app's current code.
  if (old[0]) {
    stats.endedChecks += 1;
    const step = stepOf();
    await fire(
      run,
      [{ client: old[0], body: { method: "totp", code: totpCode(user.app.secret) }, key: `${user.id}|totp|${user.app.id}|${step}`, dead: true, ended: true }],
      "totp",
    );
  } else run.error(`reset of ${user.email}: no second-step session to check`);
  stats.endedChecks += 1;
  const me = await user.authed.get("/api/me", "GET /api/me");
  if (me.status === 401 && me.body?.code === "unauthenticated") stats.endedRefused += 1;
  else if (isReload(me)) stats.devReloads += 1;
  else run.error(`GET /api/me from the full session the reset ended: ${me.status} ${JSON.stringify(me.body)}`);
  const sessions = (await Promise.all(Array.from({ length: size }, () => login(run, user, "recovery_code_required")))).filter(Boolean);
  // The same code in the spellings a person might type: any case, with or without the dash.
  const spellings = [code, code.toLowerCase(), code.replaceAll("-", ""), ` ${code} `];
  const { winners } = await fire(
    run,
    sessions.map((client, i) => ({ client, body: { method: "recovery_code", code: spellings[i % spellings.length] }, key: `${user.id}|recovery|${code}` })),
    "recovery_code",
  );
  if (winners.length !== 1) {
    run.error(`recovery collision for ${user.email}: ${winners.length} winners`);
    return;
  }
  const enrolling = winners[0].client;
  const start = await enrolling.post("/api/security/totp", { name: "New phone" }, "totp start");
  if (start.status !== 201) return run.error(`re-enroll start: ${start.status} ${JSON.stringify(start.body)}`);
  let confirm;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Retried only when a step boundary passed while the code was in flight.
    const before = stepOf();
    confirm = await enrolling.post(`/api/security/totp/${start.body.id}/confirm`, { code: totpCode(start.body.secret, Date.now() - 30_000) }, "totp confirm");
    if (confirm.status !== 400 || stepOf() === before) break;
  }
  if (confirm.status !== 200) return run.error(`re-enroll confirm: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  user.app = { id: start.body.id, secret: start.body.secret, lastStep: stepOf() - 1 };
  user.maxStep = user.app.lastStep;
  user.backupCodes = [...(confirm.body.backupCodes ?? [])];
  user.authed = enrolling;
}
