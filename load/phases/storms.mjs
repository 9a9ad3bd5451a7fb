// Storms. 30 sessions of one user submit one backup code at once: at most one
// may win, and 29 refusals are sure to lock the account (10 lock), either
// before the winner or after it. Then the same sessions submit fresh, correct
// codes (the current TOTP code, unused backup codes) round after round: while
// locked every one must be refused with 429. An admin reset ends it. When the
// steady phase ran out of time before its share, the storms hold the lock for
// more rounds (cheap 429s, each still a correct code that must be refused).

import { regenerate } from "../lib/backup-codes.mjs";
import { pool, totpCode } from "../lib/client.mjs";
import { resetAndRecover } from "../lib/reset.mjs";
import { fillSessions } from "../lib/sessions.mjs";
import { fire } from "../lib/verify.mjs";

export async function storms(run) {
  const { opt, stats, users } = run;
  const perRound = opt.storms * (opt.stormSize - 1);
  const holdRounds = Math.min(60, Math.max(opt.holdRounds, Math.ceil((opt.verifications - stats.verify - opt.storms * opt.stormSize) / perRound)));
  stats.holdRounds = holdRounds;
  // Four storms at a time, each on its own user.
  await pool(opt.storms, Math.min(4, users.length), async (s) => {
    if (Date.now() > run.deadline + 90_000) return;
    const user = users[s % users.length];
    if (user.backupCodes.length < 2) await regenerate(run, user);
    await fillSessions(run, user, opt.stormSize);
    const code = user.backupCodes.shift();
    if (!code) return;
    const group = user.sessions.splice(0, opt.stormSize);
    const key = `${user.id}|backup|${code}`;
    const storm = await fire(
      run,
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
        run,
        rest.map((client) => ({ client, body: fresh, key: `${user.id}|held|${s}|${h}`, mustRefuse: true })),
        fresh.method,
      );
      heldRefused += rest.length - held.winners.length;
    }
    stats.storms.push({ sessions: group.length, accepted: storm.winners.length, held: heldRefused, holdRequests: rest.length * holdRounds });
    user.sessions = [];
    await resetAndRecover(run, user, opt.group);
  });
}
