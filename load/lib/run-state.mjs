// What one load run counts: every answer is classified into `stats`, every
// unexpected one is an error, and every acceptance of a single-use code is
// counted per code so a second acceptance shows as a double-spend.
import { Recorder } from "./client.mjs";

/**
 * `wrangler dev` answers 503 itself while it reloads the Worker (isReload); such
 * an answer hides what the service did, a success included. A few are tolerated
 * (a file touched during a run), more fail the run.
 */
export const MAX_RELOADS = 3;

/** The state shared by the phases of one run against `base`. */
export function newRun(base, opt) {
  const started = Date.now();
  const run = {
    base,
    opt,
    started,
    /** The steady phase stops here at the latest. */
    deadline: started + opt.maxSeconds * 1000,
    rec: new Recorder(),
    stats: {
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
    },
    errorSamples: [],
    /** Acceptances per single-use code: `user|kind|code-or-step`. More than one is a double-spend. */
    accepted: new Map(),
    /** Set up by the setup phase: the admin who resets, and the users. */
    admin: null,
    adminUser: null,
    users: [],
  };
  run.error = (what) => {
    run.stats.errors += 1;
    if (run.errorSamples.length < 20) run.errorSamples.push(what);
  };
  return run;
}

export function noteAccepted(run, key, dead) {
  const n = (run.accepted.get(key) ?? 0) + 1;
  run.accepted.set(key, n);
  if (n > 1) run.stats.doubleSpends += 1;
  if (dead) run.stats.deadCodeAccepted += 1;
}

/**
 * `wrangler dev` reloads the Worker when a source file changes and answers the
 * requests in flight with this 503 itself. It happens when files are edited
 * during a run; it is the development server, not the service, so it is
 * counted apart, and more than MAX_RELOADS fail the run: each one hides what
 * the service did with the request.
 */
export function isReload(r) {
  return r.status === 503 && typeof r.body?.unparsable === "string" && r.body.unparsable.startsWith("Your worker restarted mid-request");
}
