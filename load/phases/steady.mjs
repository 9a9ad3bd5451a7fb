// Steady mixed load, every user at once: collision rounds of one code, replays
// and dead codes among them, backup-code regenerations and admin resets.

import { regenerate } from "../lib/backup-codes.mjs";
import { stepOf, totpCode } from "../lib/client.mjs";
import { resetAndRecover } from "../lib/reset.mjs";
import { fillSessions } from "../lib/sessions.mjs";
import { fire } from "../lib/verify.mjs";

/** Runs the phase; answers its duration in seconds. */
export async function steady(run) {
  const { opt, stats } = run;
  // The steady phase leaves room for the storms' requests within the target.
  const stormRequests = opt.storms * opt.stormSize * (1 + opt.holdRounds);
  const steadyTarget = Math.max(0, opt.verifications - stormRequests);
  const budgetLeft = () => stats.verify < steadyTarget && Date.now() < run.deadline;

  async function userWorker(user) {
    let n = 0;
    while (budgetLeft() && n < 100_000) {
      n += 1;
      if (user.lockedUntil > Date.now() || (opt.resetEvery > 0 && n % opt.resetEvery === 0)) {
        // An admin reset clears a lock (docs/api.md); the recovery code collides like any other code.
        await resetAndRecover(run, user, opt.group);
        user.lockedUntil = 0;
        continue;
      }
      await round(run, user);
    }
  }

  const loadStarted = performance.now();
  await Promise.all(run.users.map((u) => userWorker(u)));
  return (performance.now() - loadStarted) / 1000;
}

/**
 * One steady round: `group` second-factor sessions submit the same valid code
 * at once (the current TOTP code when its step is still free, else a backup
 * code), plus, every other round, one code that must be refused: alternately
 * the newest TOTP code this user already had accepted (a replay, RFC 6238
 * §5.2) and a dead code (regenerated or reset away). With a group of 5 at
 * most 9 refusals fall between two successes, so steady rounds never lock
 * the account (10 refusals lock).
 */
async function round(run, user) {
  const { opt, stats } = run;
  await fillSessions(run, user, opt.group);
  if (user.sessions.length < opt.group) return;
  const step = stepOf();
  let body;
  let key;
  let label;
  let totp = null;
  if (step > user.maxStep && (user.rounds % 2 === 0 || user.backupCodes.length === 0)) {
    const code = totpCode(user.app.secret);
    totp = code;
    body = { method: "totp", code: ` ${code}` };
    key = `${user.id}|totp|${user.app.id}|${step}`;
    label = "totp";
  } else {
    if (user.backupCodes.length === 0) await regenerate(run, user);
    const code = user.backupCodes.shift();
    if (!code) return;
    // Backup codes are accepted in any case and with or without the dash.
    body = { method: "backup_code", code: user.rounds % 3 === 0 ? code.toLowerCase() : code };
    key = `${user.id}|backup|${code}`;
    label = "backup_code";
  }
  user.rounds += 1;
  const group = user.sessions.splice(0, opt.group);
  const attempts = group.map((client) => ({ client, body, key }));
  // One code to refuse only every other round: 4 losers + 1 refusal after a winner and
  // 4 losers before the next one stay under the 10 refusals that lock. An accepted
  // replay counts under the key of its first acceptance: a double-spend.
  const replay = user.rounds % 4 === 0 ? user.spentTOTP.at(-1) : undefined;
  const dead = user.rounds % 2 === 0 && !replay ? user.deadCodes.shift() : undefined;
  let deadSession = null;
  if (replay || dead) {
    await fillSessions(run, user, 1);
    deadSession = user.sessions.shift() ?? null;
  }
  if (deadSession && replay) {
    attempts.push({ client: deadSession, body: { method: "totp", code: replay.code }, key: replay.key });
    stats.totpReplays += 1;
    // Inside the window (this step or the previous one) only the last-accepted-step rule refuses it.
    if (replay.step >= stepOf() - 1) stats.totpReplaysInWindow += 1;
  } else if (deadSession && dead) attempts.push({ client: deadSession, body: { method: dead.method, code: dead.code }, key: dead.key, dead: true });
  const { winners, locked } = await fire(run, attempts, label);
  const won = winners.filter((w) => w.key === key);
  if (won.length === 1) stats.roundsWithOneWinner += 1;
  else if (won.length === 0) stats.roundsWithNoWinner += 1;
  if (totp && won.length > 0) {
    user.maxStep = step;
    user.spentTOTP = [...user.spentTOTP.slice(-3), { code: totp, key, step }];
  }
  // Losers stay in the second step and join the next round; winners are fully logged in.
  const movedOn = new Set(winners.map((w) => w.client));
  for (const c of [...group, ...(deadSession ? [deadSession] : [])]) if (!movedOn.has(c)) user.sessions.push(c);
  if (won[0]) user.authed = won[0].client;
  if (locked) user.lockedUntil = Date.now() + 15 * 60_000;
}
