import { describe, expect, it } from "vitest";
import type { Client } from "./support/client";
import { enableTOTP, halfSessions, newUser, recoveryClient, resetMember, resetWorld } from "./support/fixtures";
import { guardRows, recoveryRow } from "./support/stores";

const HALF_SESSIONS_KEPT = 20;

/**
 * The single-use attack suite: 30 parallel uses of one single-use code, each from
 * its own half-logged-in session, give exactly one success. The rest are
 * refused (401) or, once ten refusals have locked the account, told to wait
 * (429); nothing else, and the code is spent exactly once.
 */
function tally(statuses: number[]) {
  return {
    ok: statuses.filter((s) => s === 200).length,
    other: statuses.filter((s) => s !== 200 && s !== 401 && s !== 429),
  };
}

describe("30 parallel uses of one code", () => {
  it("one backup code: exactly one session gets in and exactly one code is spent", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const sessions = await halfSessions(u.email, 30);
    const code = backupCodes[3] as string;
    const answers = await Promise.all(sessions.map((c) => c.json("POST", "/api/auth/verify", { method: "backup_code", code })));
    const { ok, other } = tally(answers.map((a) => a.status));
    expect(ok).toBe(1);
    expect(other).toEqual([]);
    expect(await guardRows(u.id, "SELECT hash FROM backup_codes WHERE used_at IS NOT NULL")).toHaveLength(1);
    const winners: Client[] = sessions.filter((_, i) => answers[i]?.status === 200);
    expect((await (winners[0] as Client).json("GET", "/api/me")).body.stage).toBe("authenticated");
    // An account keeps its newest 20 half sessions (docs/security.md R10a): the 10 oldest had ended before the race.
    const ended = sessions.slice(0, sessions.length - HALF_SESSIONS_KEPT);
    for (const loser of sessions.filter((_, i) => answers[i]?.status !== 200))
      expect((await loser.get("/api/me")).status).toBe(ended.includes(loser) ? 401 : 403);
  });

  it("one recovery code: exactly one session reaches enrollment and the code is gone", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const sessions: Client[] = [];
    for (let i = 0; i < 30; i++) sessions.push(await recoveryClient(world.member));
    const answers = await Promise.all(sessions.map((c) => c.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })));
    const { ok, other } = tally(answers.map((a) => a.status));
    expect(ok).toBe(1);
    expect(other).toEqual([]);
    expect(await recoveryRow(world.member.id)).toBeNull();
    const winner = sessions[answers.findIndex((a) => a.status === 200)] as Client;
    expect((await winner.json("GET", "/api/me")).body.stage).toBe("enrollment");
  });
});
