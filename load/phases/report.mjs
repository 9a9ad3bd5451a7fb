// The report of a load run, and the checks that decide whether it passed.
import { MAX_RELOADS } from "../lib/run-state.mjs";

/** The report's lines; the first two are a blank line and the heading. */
export function reportLines(run, { loadSeconds, timing, resetTimes }) {
  const { opt, stats, rec } = run;
  const seconds = (Date.now() - run.started) / 1000;
  const lines = [];
  lines.push("", "== load results ==");
  lines.push(`duration ${seconds.toFixed(1)} s (steady phase ${loadSeconds.toFixed(1)} s), users ${run.users.length}, logins ${stats.logins}`);
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
    `storms (${opt.stormSize} sessions, one backup code, then ${stats.holdRounds} rounds of correct codes while locked): accepted ${stats.storms.map((s) => s.accepted).join(", ") || "none"}; refused while locked ${stats.storms.reduce((a, s) => a + s.held, 0)} of ${stats.storms.reduce((a, s) => a + s.holdRequests, 0)}`,
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
  lines.push(
    `password-reset timing: ${resetTimes.n} unknown-email and ${resetTimes.n} known-email requests, medians ${resetTimes.unknown.toFixed(1)} ms and ${resetTimes.known.toFixed(1)} ms, ratio ${resetTimes.ratio.toFixed(3)} (must be within 0.8 to 1.25)`,
  );
  lines.push("", "latency per endpoint (ms):", "endpoint | n | p50 | p95 | p99 | max");
  for (const label of rec.labels()) {
    const s = rec.summary(label);
    lines.push(`${label} | ${s.n} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)}`);
  }
  return lines;
}

/** What made the run fail; empty when it passed. */
export function failures(run, { timing, resetTimes }) {
  const { opt, stats } = run;
  const out = [];
  if (stats.doubleSpends !== 0) out.push("double-spends");
  if (stats.deadCodeAccepted !== 0) out.push("dead codes accepted");
  if (stats.acceptedWhileLocked !== 0) out.push("codes accepted while locked");
  if (stats.errors !== 0) out.push("unexpected answers");
  if (stats.roundsWithNoWinner !== 0) out.push("collision rounds without a winner");
  // A surviving session is an unexpected answer; this catches a check that never ran.
  if (stats.resets === 0 || stats.endedChecks !== 2 * stats.resets) out.push("sessions a reset ended were not all checked");
  if (stats.totpReplaysInWindow === 0) out.push("no TOTP replay inside the acceptance window");
  if (stats.devReloads > MAX_RELOADS) out.push(`${stats.devReloads} answers were 503s from a reloading server (at most ${MAX_RELOADS})`);
  if (stats.verify < opt.verifications) out.push(`only ${stats.verify} of ${opt.verifications} verification requests within the time limit`);
  if (!(timing.ratio >= 0.8 && timing.ratio <= 1.25)) out.push("login timing ratio");
  if (!(resetTimes.ratio >= 0.8 && resetTimes.ratio <= 1.25)) out.push("password-reset timing ratio");
  return out;
}
