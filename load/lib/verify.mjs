// Simultaneous submissions to POST /api/auth/verify and the classification of
// every answer.
import { isReload, noteAccepted } from "./run-state.mjs";

/**
 * Fires `attempts` ({client, body, key, dead, ended, mustRefuse}) at once and
 * classifies every answer. Returns the winners (the clients whose session moved
 * on) and whether a lock was seen.
 */
export async function fire(run, attempts, label) {
  const { stats } = run;
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
        if (r.status === 200) noteAccepted(run, a.key, a.dead);
        run.error(`verify ${label} from a session the reset ended: ${r.status} ${JSON.stringify(r.body)}`);
      }
      continue;
    }
    if (r.status === 200) {
      stats.accepted += 1;
      noteAccepted(run, a.key, a.dead);
      if (a.mustRefuse) stats.acceptedWhileLocked += 1;
      winners.push({ client: a.client, body: r.body, key: a.key });
    } else if (r.status === 401 && r.body?.code === "invalid_code") stats.refusedInvalid += 1;
    else if (r.status === 429 && r.body?.code === "too_many_attempts") {
      stats.refusedLocked += 1;
      locked = true;
    } else if (isReload(r)) stats.devReloads += 1;
    else run.error(`verify ${label}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { winners, locked };
}
