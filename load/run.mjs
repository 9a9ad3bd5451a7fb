#!/usr/bin/env node
// `npm run load [-- --users N --verifications N --group N --storms N --timing-samples N --max-seconds N]`
//
// Race and load test over the real HTTP API. Without BASE_URL it starts a fresh
// service (scripts/with-server.mjs, loopback, own state directory) and runs
// against it. Many users with authenticator apps, all members of one community,
// run mixed flows at once: password logins, TOTP and backup-code verifications,
// backup-code regeneration, admin resets with recovery codes and re-enrollment.
// Codes collide on purpose: several second-factor sessions of one user submit
// the same code at the same instant, and the run counts how many times each
// single-use code was accepted; TOTP codes already accepted are replayed in
// later rounds. Exits non-zero on any double-spend, any acceptance of a code
// that should be dead, any session a reset should have ended that was not,
// any collision round without a winner, any unexpected answer, more than
// MAX_RELOADS 503s from a reloading dev server, or a login-timing ratio far
// from 1; docs/benchmarks.md is written only when the run passed. Every loop
// is bounded by count and by time.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, expect, freePort, median, newTOTPUser, PASSWORD, pool, Recorder, stepOf, summarize, totpCode, uniqueEmail } from "./lib/client.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * `wrangler dev` answers 503 itself while it reloads the Worker (isReload); such
 * an answer hides what the service did, a success included. A few are tolerated
 * (a file touched during a run), more fail the run.
 */
const MAX_RELOADS = 3;

function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || m[1] === "no-doc") continue;
    out[m[1]] = m[2] ?? argv[++i];
  }
  return out;
}
const f = flags(process.argv.slice(2));
const num = (name, dflt) => (f[name] === undefined ? dflt : Number(f[name]));
const OPT = {
  users: num("users", 24),
  /** Sessions of one user that submit the same code at once in a steady round. */
  group: num("group", 5),
  verifications: num("verifications", 10_000),
  /** Large collisions (30 sessions, one code) that are expected to lock the account. */
  storms: num("storms", 12),
  stormSize: num("storm-size", 30),
  /** Rounds of correct codes from every storm session while the account is locked. */
  holdRounds: num("hold-rounds", 16),
  timingSamples: num("timing-samples", 60),
  /** The steady phase stops here at the latest; storms and the timing phase follow. */
  maxSeconds: num("max-seconds", 170),
  resetEvery: num("reset-every", 40),
};

if (!process.env.BASE_URL) {
  // Re-run this script against a fresh service; with-server stops it afterwards.
  const port = process.env.PORT ?? String(await freePort());
  const child = spawn(
    process.execPath,
    [join(here, "..", "scripts", "with-server.mjs"), process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: { ...process.env, PORT: port },
    },
  );
  child.on("exit", (code) => process.exit(code ?? 1));
} else {
  await main(process.env.BASE_URL.replace(/\/$/, ""));
}

async function main(base) {
  const started = Date.now();
  const deadline = started + OPT.maxSeconds * 1000;
  const rec = new Recorder();
  const stats = {
    verify: 0,
    accepted: 0,
    refusedInvalid: 0,
    refusedLocked: 0,
    refusedEndedSession: 0,
    /** Requests made with a session (second-step or full) that an admin reset must have ended, and how many were refused as such. */
    endedChecks: 0,
    endedRefused: 0,
    /** Already accepted TOTP codes submitted again, and how many of those were still inside the acceptance window. */
    totpReplays: 0,
    totpReplaysInWindow: 0,
    doubleSpends: 0,
    deadCodeAccepted: 0,
    acceptedWhileLocked: 0,
    devReloads: 0,
    errors: 0,
    logins: 0,
    resets: 0,
    regenerations: 0,
    roundsWithOneWinner: 0,
    roundsWithNoWinner: 0,
    storms: [],
  };
  const errorSamples = [];
  const error = (what) => {
    stats.errors += 1;
    if (errorSamples.length < 20) errorSamples.push(what);
  };
  /** Acceptances per single-use code: `user|kind|code-or-step`. More than one is a double-spend. */
  const accepted = new Map();

  console.log(`load: ${base}, ${OPT.users} users, group ${OPT.group}, target ${OPT.verifications} verifications, at most ${OPT.maxSeconds} s`);

  // ---- setup: an admin with an authenticator app (only an admin with 2FA may reset), and users
  // with authenticator apps. Each user makes a community of their own and invites the admin into
  // it as an admin, so the admin's resets (at most 10 per community per day) and the invitations
  // (at most 20 per admin per hour) stay within their limits however many users run.
  const adminUser = await newTOTPUser(base, { recorder: rec, prefix: "admin" });
  const admin = adminUser.client;

  const users = [];
  await pool(OPT.users, 4, async (i) => {
    const u = await newTOTPUser(base, { recorder: rec, prefix: `u${i}`, community: `Load ${i}` });
    const me = expect(await u.client.get("/api/me", "GET /api/me"), 200, "user me");
    const cid = me.body.communities[0].id;
    const inv = expect(await u.client.post(`/api/communities/${cid}/invitations`, { email: adminUser.email, role: "admin" }, "invite"), 201, "invite");
    expect(await admin.post(`/api/invitations/${inv.body.invitation.id}/accept`, undefined, "accept invitation"), 200, "accept");
    users.push({
      ...u,
      cid,
      index: i,
      authed: u.client,
      sessions: [],
      app: u.apps[0],
      maxStep: u.apps[0].lastStep,
      /** TOTP codes this run saw accepted, newest last, for replays: `{code, key, step}`. */
      spentTOTP: [],
      /** Codes a regeneration or a reset killed: `{method, code, key}`. */
      deadCodes: [],
      rounds: 0,
      lockedUntil: 0,
    });
  });
  console.log(`load: setup done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The steady phase leaves room for the storms' requests within the target.
  const stormRequests = OPT.storms * OPT.stormSize * (1 + OPT.holdRounds);
  const steadyTarget = Math.max(0, OPT.verifications - stormRequests);
  const budgetLeft = () => stats.verify < steadyTarget && Date.now() < deadline;

  async function login(user, expectStatus) {
    const c = new Client(base, { recorder: rec });
    const r = await c.post("/api/auth/login", { email: user.email, password: PASSWORD }, "login");
    stats.logins += 1;
    if (isReload(r)) {
      stats.devReloads += 1;
      return null;
    }
    if (r.status !== 200 || r.body?.status !== expectStatus) {
      error(`login for ${expectStatus}: ${r.status} ${JSON.stringify(r.body)}`);
      return null;
    }
    return c;
  }

  async function fillSessions(user, n) {
    // At most 8 logins of one email in flight: the per-email throttle takes a token
    // before checking the password and holds 10, so 30 at once would be throttled.
    for (let tries = 0; tries < 10 && user.sessions.length < n; tries++) {
      const missing = Math.min(8, n - user.sessions.length);
      const made = await Promise.all(Array.from({ length: missing }, () => login(user, "second_factor_required")));
      for (const c of made) if (c) user.sessions.push(c);
    }
  }

  function noteAccepted(key, dead) {
    const n = (accepted.get(key) ?? 0) + 1;
    accepted.set(key, n);
    if (n > 1) stats.doubleSpends += 1;
    if (dead) stats.deadCodeAccepted += 1;
  }

  /**
   * Fires `attempts` ({client, body, key, dead}) at once and classifies every
   * answer. Returns the clients whose session moved on.
   */
  async function fire(attempts, label) {
    const results = await Promise.all(
      attempts.map(async (a) => {
        try {
          return { a, r: await a.client.post("/api/auth/verify", a.body, `verify ${label}`) };
        } catch (e) {
          return { a, r: { status: 0, body: { error: String(e) } } };
        }
      }),
    );
    const winners = [];
    let locked = false;
    for (const { a, r } of results) {
      stats.verify += 1;
      // A session the reset ended must be refused as such, whatever its code: checked first,
      // so a surviving session answering invalid_code or 429 is not counted as a plain refusal.
      if (a.ended) {
        if (r.status === 401 && r.body?.code === "unauthenticated") {
          stats.refusedEndedSession += 1;
          stats.endedRefused += 1;
        } else if (isReload(r)) stats.devReloads += 1;
        else {
          if (r.status === 200) noteAccepted(a.key, a.dead);
          error(`verify ${label} from a session the reset ended: ${r.status} ${JSON.stringify(r.body)}`);
        }
        continue;
      }
      if (r.status === 200) {
        stats.accepted += 1;
        noteAccepted(a.key, a.dead);
        if (a.mustRefuse) stats.acceptedWhileLocked += 1;
        winners.push({ client: a.client, body: r.body, key: a.key });
      } else if (r.status === 401 && r.body?.code === "invalid_code") stats.refusedInvalid += 1;
      else if (r.status === 429 && r.body?.code === "too_many_attempts") {
        stats.refusedLocked += 1;
        locked = true;
      } else if (isReload(r)) stats.devReloads += 1;
      else error(`verify ${label}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return { winners, locked };
  }

  async function regenerate(user) {
    const c = user.authed;
    const re = await c.post("/api/security/reauth", { password: PASSWORD }, "reauth");
    if (re.status !== 204) return error(`reauth: ${re.status} ${JSON.stringify(re.body)}`);
    const r = await c.post("/api/security/backup-codes", undefined, "regenerate backup codes");
    if (r.status !== 200) return error(`regenerate: ${r.status} ${JSON.stringify(r.body)}`);
    stats.regenerations += 1;
    user.deadCodes.push(...user.backupCodes.map((code) => ({ method: "backup_code", code, key: `${user.id}|backup|${code}` })));
    user.backupCodes = [...r.body.codes];
  }

  /**
   * Admin reset, then `size` recovery sessions submit the one recovery code at
   * once, then re-enrollment. Before that, a second-step session and the full
   * session from before the reset must both have ended.
   */
  async function resetAndRecover(user, size) {
    await fillSessions(user, 1);
    const r = await admin.post(`/api/communities/${user.cid}/members/${user.id}/reset-2fa`, { password: PASSWORD }, "reset-2fa");
    if (r.status !== 200) return error(`reset: ${r.status} ${JSON.stringify(r.body)}`);
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
        [{ client: old[0], body: { method: "totp", code: totpCode(user.app.secret) }, key: `${user.id}|totp|${user.app.id}|${step}`, dead: true, ended: true }],
        "totp",
      );
    } else error(`reset of ${user.email}: no second-step session to check`);
    stats.endedChecks += 1;
    const me = await user.authed.get("/api/me", "GET /api/me");
    if (me.status === 401 && me.body?.code === "unauthenticated") stats.endedRefused += 1;
    else if (isReload(me)) stats.devReloads += 1;
    else error(`GET /api/me from the full session the reset ended: ${me.status} ${JSON.stringify(me.body)}`);
    const sessions = (await Promise.all(Array.from({ length: size }, () => login(user, "recovery_code_required")))).filter(Boolean);
    // The same code in the spellings a person might type: any case, with or without the dash.
    const spellings = [code, code.toLowerCase(), code.replaceAll("-", ""), ` ${code} `];
    const { winners } = await fire(
      sessions.map((client, i) => ({ client, body: { method: "recovery_code", code: spellings[i % spellings.length] }, key: `${user.id}|recovery|${code}` })),
      "recovery_code",
    );
    if (winners.length !== 1) {
      error(`recovery collision for ${user.email}: ${winners.length} winners`);
      return;
    }
    const enrolling = winners[0].client;
    const start = await enrolling.post("/api/security/totp", { name: "New phone" }, "totp start");
    if (start.status !== 201) return error(`re-enroll start: ${start.status} ${JSON.stringify(start.body)}`);
    let confirm;
    for (let attempt = 0; attempt < 3; attempt++) {
      // Retried only when a step boundary passed while the code was in flight.
      const before = stepOf();
      confirm = await enrolling.post(`/api/security/totp/${start.body.id}/confirm`, { code: totpCode(start.body.secret, Date.now() - 30_000) }, "totp confirm");
      if (confirm.status !== 400 || stepOf() === before) break;
    }
    if (confirm.status !== 200) return error(`re-enroll confirm: ${confirm.status} ${JSON.stringify(confirm.body)}`);
    user.app = { id: start.body.id, secret: start.body.secret, lastStep: stepOf() - 1 };
    user.maxStep = user.app.lastStep;
    user.backupCodes = [...(confirm.body.backupCodes ?? [])];
    user.authed = enrolling;
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
  async function round(user) {
    await fillSessions(user, OPT.group);
    if (user.sessions.length < OPT.group) return;
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
      if (user.backupCodes.length === 0) await regenerate(user);
      const code = user.backupCodes.shift();
      if (!code) return;
      // Backup codes are accepted in any case and with or without the dash.
      body = { method: "backup_code", code: user.rounds % 3 === 0 ? code.toLowerCase() : code };
      key = `${user.id}|backup|${code}`;
      label = "backup_code";
    }
    user.rounds += 1;
    const group = user.sessions.splice(0, OPT.group);
    const attempts = group.map((client) => ({ client, body, key }));
    // One code to refuse only every other round: 4 losers + 1 refusal after a winner and
    // 4 losers before the next one stay under the 10 refusals that lock. An accepted
    // replay counts under the key of its first acceptance: a double-spend.
    const replay = user.rounds % 4 === 0 ? user.spentTOTP.at(-1) : undefined;
    const dead = user.rounds % 2 === 0 && !replay ? user.deadCodes.shift() : undefined;
    let deadSession = null;
    if (replay || dead) {
      await fillSessions(user, 1);
      deadSession = user.sessions.shift() ?? null;
    }
    if (deadSession && replay) {
      attempts.push({ client: deadSession, body: { method: "totp", code: replay.code }, key: replay.key });
      stats.totpReplays += 1;
      // Inside the window (this step or the previous one) only the last-accepted-step rule refuses it.
      if (replay.step >= stepOf() - 1) stats.totpReplaysInWindow += 1;
    } else if (deadSession && dead) attempts.push({ client: deadSession, body: { method: dead.method, code: dead.code }, key: dead.key, dead: true });
    const { winners, locked } = await fire(attempts, label);
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

  async function userWorker(user) {
    let n = 0;
    while (budgetLeft() && n < 100_000) {
      n += 1;
      if (user.lockedUntil > Date.now() || (OPT.resetEvery > 0 && n % OPT.resetEvery === 0)) {
        // An admin reset clears a lock (API.md); the recovery code collides like any other code.
        await resetAndRecover(user, OPT.group);
        user.lockedUntil = 0;
        continue;
      }
      await round(user);
    }
  }

  // ---- phase 1: steady mixed load, every user at once
  const loadStarted = performance.now();
  await Promise.all(users.map((u) => userWorker(u)));
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  // ---- phase 2: storms. 30 sessions of one user submit one backup code at once:
  // at most one may win, and 29 refusals are sure to lock the account (10 lock),
  // either before the winner or after it. Then the same sessions submit fresh,
  // correct codes (the current TOTP code, unused backup codes) round after round:
  // while locked every one must be refused with 429. An admin reset ends it.
  // When the steady phase ran out of time before its share, the storms hold the
  // lock for more rounds (cheap 429s, each still a correct code that must be refused).
  const perRound = OPT.storms * (OPT.stormSize - 1);
  const holdRounds = Math.min(60, Math.max(OPT.holdRounds, Math.ceil((OPT.verifications - stats.verify - OPT.storms * OPT.stormSize) / perRound)));
  stats.holdRounds = holdRounds;
  // Four storms at a time, each on its own user.
  await pool(OPT.storms, Math.min(4, users.length), async (s) => {
    if (Date.now() > deadline + 90_000) return;
    const user = users[s % users.length];
    if (user.backupCodes.length < 2) await regenerate(user);
    await fillSessions(user, OPT.stormSize);
    const code = user.backupCodes.shift();
    if (!code) return;
    const group = user.sessions.splice(0, OPT.stormSize);
    const key = `${user.id}|backup|${code}`;
    const storm = await fire(
      group.map((client) => ({ client, body: { method: "backup_code", code }, key })),
      "backup_code",
    );
    const movedOn = new Set(storm.winners.map((w) => w.client));
    const rest = group.filter((c) => !movedOn.has(c));
    let heldRefused = 0;
    for (let h = 0; h < holdRounds; h++) {
      const fresh =
        h % 2 === 0 ? { method: "totp", code: totpCode(user.app.secret) } : { method: "backup_code", code: user.backupCodes[h % user.backupCodes.length] };
      const held = await fire(
        rest.map((client) => ({ client, body: fresh, key: `${user.id}|held|${s}|${h}`, mustRefuse: true })),
        fresh.method,
      );
      heldRefused += rest.length - held.winners.length;
    }
    stats.storms.push({ sessions: group.length, accepted: storm.winners.length, held: heldRefused, holdRequests: rest.length * holdRounds });
    user.sessions = [];
    await resetAndRecover(user, OPT.group);
  });

  // ---- phase 3: login timing, unknown email against wrong password, interleaved
  const timing = await loginTiming(base, OPT.timingSamples, error, () => {
    stats.devReloads += 1;
  });

  // ---- report
  const seconds = (Date.now() - started) / 1000;
  const lines = [];
  lines.push("", "== load results ==");
  lines.push(`duration ${seconds.toFixed(1)} s (steady phase ${loadSeconds.toFixed(1)} s), users ${users.length}, logins ${stats.logins}`);
  lines.push(
    `verification requests ${stats.verify}: accepted ${stats.accepted}, refused invalid_code ${stats.refusedInvalid}, refused locked ${stats.refusedLocked}, refused ended session ${stats.refusedEndedSession}`,
  );
  lines.push(
    `sessions a reset ended, checked: ${stats.endedChecks} (a second-step session with the old app's current code, and the full session), refused as ended ${stats.endedRefused} (every other answer is unexpected)`,
  );
  lines.push(
    `TOTP replays (a code already accepted, submitted again in a later round): ${stats.totpReplays}, of which inside the acceptance window ${stats.totpReplaysInWindow} (must be more than 0)`,
  );
  lines.push(
    `collision rounds: one winner ${stats.roundsWithOneWinner}, no winner ${stats.roundsWithNoWinner} (must be 0); regenerations ${stats.regenerations}; admin resets ${stats.resets}`,
  );
  lines.push(
    `storms (${OPT.stormSize} sessions, one backup code, then ${stats.holdRounds} rounds of correct codes while locked): accepted ${stats.storms.map((s) => s.accepted).join(", ") || "none"}; refused while locked ${stats.storms.reduce((a, s) => a + s.held, 0)} of ${stats.storms.reduce((a, s) => a + s.holdRequests, 0)}`,
  );
  lines.push(
    `double-spends ${stats.doubleSpends} (must be 0), dead codes accepted ${stats.deadCodeAccepted} (must be 0), accepted while locked ${stats.acceptedWhileLocked} (must be 0), unexpected answers ${stats.errors} (must be 0)`,
  );
  if (stats.devReloads)
    lines.push(
      `wrangler dev restarted the Worker mid-request ${stats.devReloads} times (source files changed during the run; at most ${MAX_RELOADS}): those requests answered 503 from wrangler, not from the service, so what the service did with them is unknown`,
    );
  lines.push(
    `login timing: ${timing.n} unknown-email and ${timing.n} wrong-password logins, medians ${timing.unknown.toFixed(1)} ms and ${timing.wrong.toFixed(1)} ms, ratio ${timing.ratio.toFixed(3)} (must be within 0.8 to 1.25)`,
  );
  lines.push("", "latency per endpoint (ms):", "endpoint | n | p50 | p95 | p99 | max");
  for (const label of rec.labels()) {
    const s = rec.summary(label);
    lines.push(`${label} | ${s.n} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)}`);
  }
  console.log(lines.join("\n"));
  if (errorSamples.length) console.log(`\nunexpected answers (first ${errorSamples.length}):\n${errorSamples.join("\n")}`);

  const failures = [];
  if (stats.doubleSpends !== 0) failures.push("double-spends");
  if (stats.deadCodeAccepted !== 0) failures.push("dead codes accepted");
  if (stats.acceptedWhileLocked !== 0) failures.push("codes accepted while locked");
  if (stats.errors !== 0) failures.push("unexpected answers");
  if (stats.roundsWithNoWinner !== 0) failures.push("collision rounds without a winner");
  // A surviving session is an unexpected answer; this catches a check that never ran.
  if (stats.resets === 0 || stats.endedChecks !== 2 * stats.resets) failures.push("sessions a reset ended were not all checked");
  if (stats.totpReplaysInWindow === 0) failures.push("no TOTP replay inside the acceptance window");
  if (stats.devReloads > MAX_RELOADS) failures.push(`${stats.devReloads} answers were 503s from a reloading server (at most ${MAX_RELOADS})`);
  if (stats.verify < OPT.verifications) failures.push(`only ${stats.verify} of ${OPT.verifications} verification requests within the time limit`);
  if (!(timing.ratio >= 0.8 && timing.ratio <= 1.25)) failures.push("login timing ratio");
  if (failures.length) {
    console.log(`\nload: FAILED: ${failures.join(", ")}`);
    process.exit(1);
  }
  // Only a run that passed is a result worth recording.
  if (!process.argv.includes("--no-doc")) writeDoc(lines.slice(2).join("\n"));
  console.log("\nload: passed");
}

/**
 * Logins for unknown emails and for known emails with a wrong password, the same
 * number of each, interleaved and one at a time so both see the same machine.
 * Every attempt uses a distinct email and client address (the throttle keys on
 * both); a known account takes at most 5 wrong passwords (its bucket holds 10).
 */
async function loginTiming(base, n, error, reloaded) {
  const accounts = [];
  const perAccount = 5;
  await pool(Math.ceil(n / perAccount), 4, async () => {
    const c = new Client(base);
    const email = uniqueEmail("timing");
    const r = await c.post("/api/auth/signup", { email, password: PASSWORD, name: "Timing" });
    if (r.status === 201) accounts.push(email);
    else error(`timing signup: ${r.status}`);
  });
  const unknown = [];
  const wrong = [];
  for (let i = 0; i < n; i++) {
    const known = accounts[Math.floor(i / perAccount) % accounts.length];
    const pair = [
      { list: unknown, email: uniqueEmail("nobody"), password: PASSWORD },
      { list: wrong, email: known, password: `${PASSWORD} but wrong` },
    ];
    if (i % 2) pair.reverse();
    for (const p of pair) {
      const c = new Client(base);
      const r = await c.post("/api/auth/login", { email: p.email, password: p.password });
      if (isReload(r)) {
        reloaded();
        continue;
      }
      if (r.status !== 401 || r.body?.code !== "invalid_credentials") error(`timing login: ${r.status} ${JSON.stringify(r.body)}`);
      p.list.push(r.ms);
    }
  }
  const mu = median(unknown);
  const mw = median(wrong);
  return { n, unknown: mu, wrong: mw, ratio: mu / mw, summaries: { unknown: summarize(unknown), wrong: summarize(wrong) } };
}

/** Puts the report between the load markers of docs/benchmarks.md (`--no-doc` leaves it alone). */
function writeDoc(report) {
  const path = join(here, "..", "docs", "benchmarks.md");
  const startMark = "<!-- load:start";
  const endMark = "<!-- load:end -->";
  if (!existsSync(path)) return;
  const doc = readFileSync(path, "utf8");
  const a = doc.indexOf(startMark);
  const b = doc.indexOf(endMark);
  if (a === -1 || b === -1 || b < a) return;
  const s = doc.indexOf("-->", a) + 3;
  const when = new Date().toISOString();
  const args = process.argv.slice(2).filter((x) => x !== "--no-doc");
  const block = `\nLast run ${when}: \`npm run load${args.length ? ` -- ${args.join(" ")}` : ""}\`\n\n\`\`\`text\n${report}\n\`\`\`\n`;
  writeFileSync(path, `${doc.slice(0, s)}${block}${doc.slice(b)}`);
  console.log("load: wrote docs/benchmarks.md");
}

/**
 * `wrangler dev` reloads the Worker when a source file changes and answers the
 * requests in flight with this 503 itself. It happens when files are edited
 * during a run; it is the development server, not the service, so it is
 * counted apart, and more than MAX_RELOADS fail the run: each one hides what
 * the service did with the request.
 */
function isReload(r) {
  return r.status === 503 && typeof r.body?.unparsable === "string" && r.body.unparsable.startsWith("Your worker restarted mid-request");
}
