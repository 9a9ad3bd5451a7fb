import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AGENTS, withUserAgent } from "./support/client";
import { enableTOTP, newUser, PASSWORD } from "./support/fixtures";
import { everyEvent } from "./support/journey";

/**
 * The security log (docs/api.md "Security page", event types): every
 * security change is recorded for the user with when, from which address and
 * browser, and who did it when it was not the user.
 */

interface EventRow {
  type: string;
  at: number;
  ip: string | null;
  user_agent: string | null;
  actor_id: string | null;
  data: string | null;
}

describe("the security log", () => {
  it("records every event type with the address, browser and actor of the request that caused it", async () => {
    const journey = await everyEvent();
    const { member, world } = journey;
    const types = [...new Set(journey.happened.map((h) => h.type))];
    const { results } = await env.DB.prepare(
      `SELECT type, at, ip, user_agent, actor_id, data FROM events WHERE user_id = ? AND type IN (${types.map(() => "?").join(", ")}) ORDER BY at, rowid`,
    )
      .bind(member.id, ...types)
      .all<EventRow>();
    expect(results.map((r) => ({ type: r.type, ip: r.ip, userAgent: r.user_agent, actorId: r.actor_id ?? undefined }))).toEqual(
      journey.happened.map((h) => ({ type: h.type, ip: h.ip, userAgent: h.userAgent, actorId: h.actorId })),
    );
    for (const t of [
      "two_factor_enabled",
      "two_factor_disabled",
      "method_added",
      "method_renamed",
      "method_removed",
      "backup_codes_regenerated",
      "backup_code_used",
      "recovery_code_issued",
      "recovery_code_used",
      "locked_out",
    ]) {
      expect(types, t).toContain(t);
    }
    const data = (type: string) => results.filter((r) => r.type === type).map((r) => JSON.parse(r.data ?? "{}"));
    expect(data("backup_code_used")).toEqual([{ remaining: 9 }]);
    expect(data("method_renamed")[0]).toMatchObject({ methodType: "totp", methodName: "Old tablet", previousName: "Tablet" });
    expect(data("method_removed")[0]).toMatchObject({ methodType: "totp", methodName: "Old tablet" });
    expect(data("recovery_code_issued")[0]).toMatchObject({ communityId: world.admin.communityId, expiresAt: expect.any(String) });
    // No event keeps a code or secret either.
    const stored = JSON.stringify(results).toLowerCase();
    for (const secret of journey.secrets) expect(stored).not.toContain(secret.toLowerCase());

    // The admin's own log says whom they reset, and from where.
    const mine = await env.DB.prepare("SELECT type, ip, user_agent, actor_id, data FROM events WHERE user_id = ? AND type = 'member_reset'")
      .bind(world.admin.id)
      .all<EventRow>();
    expect(mine.results).toHaveLength(1);
    expect(mine.results[0]).toMatchObject({ ip: world.admin.client.ip, user_agent: AGENTS.desk[0], actor_id: world.admin.id });
    expect(JSON.parse(mine.results[0]?.data ?? "{}")).toMatchObject({ memberId: member.id, communityId: world.admin.communityId });

    // The member sees the reset on the Security page, with the admin who made it, but not where the admin was.
    const page = await journey.recovering.json("GET", "/api/security");
    expect(page.status).toBe(200);
    const issued = page.body.events.find((e: { type: string }) => e.type === "recovery_code_issued");
    expect(issued).toMatchObject({ actor: { id: world.admin.id, name: world.admin.name } });
    expect(Object.keys(issued)).not.toContain("ip");
    expect(Object.keys(issued)).not.toContain("userAgent");
    expect(Object.keys(issued)).not.toContain("browser");
    // ... and the admin sees it among their members' reset events.
    const admins = await world.admin.client.json("GET", `/api/communities/${world.admin.communityId}/events`);
    expect(admins.body.events.map((e: { type: string }) => e.type)).toEqual(["recovery_code_used", "recovery_code_issued"]);
  });

  it("GET /api/security shows the last 20 events, newest first, with address and browser", async () => {
    const user = await newUser({ name: "Rita Renamer" });
    withUserAgent(user.client, "RenameBrowser/3.1");
    const { methodId } = await enableTOTP(user.client);
    for (let i = 1; i <= 22; i++) {
      const res = await user.client.json("PATCH", `/api/security/methods/${methodId}`, { name: `Name ${i}` });
      expect(res.status).toBe(200);
    }
    const page = await user.client.json("GET", "/api/security");
    expect(page.status).toBe(200);
    const events = page.body.events as { type: string; at: string; ip?: string; userAgent?: string; data?: { methodName?: string } }[];
    expect(events).toHaveLength(20);
    expect(events.map((e) => e.data?.methodName)).toEqual(Array.from({ length: 20 }, (_, i) => `Name ${22 - i}`));
    for (let i = 1; i < events.length; i++) expect(Date.parse(events[i - 1]?.at as string)).toBeGreaterThanOrEqual(Date.parse(events[i]?.at as string));
    for (const e of events) expect(e).toMatchObject({ type: "method_renamed", ip: user.client.ip, userAgent: "RenameBrowser/3.1" });
  });

  it("GET /api/security names each event's browser in the words the sessions list uses", async () => {
    const opera = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0";
    const user = await newUser({ name: "Otto Opera" });
    withUserAgent(user.client, opera);
    // A new login, so this session too was opened by Opera.
    expect((await user.client.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).status).toBe(200);
    await enableTOTP(user.client);
    const page = await user.client.json("GET", "/api/security");
    expect(page.status).toBe(200);
    const events = page.body.events as { type: string; userAgent?: string; browser?: string }[];
    const enabled = events.find((e) => e.type === "two_factor_enabled");
    // Opera's header also says Chrome and Safari: the words come from one parser (src/notify/user-agent.ts), not the page's.
    expect(enabled).toMatchObject({ userAgent: opera, browser: "Opera on Windows" });
    const sessions = await user.client.json("GET", "/api/security/sessions");
    expect(sessions.body.sessions.find((s: { current: boolean }) => s.current).browser).toBe(enabled?.browser);
  });
});

describe("an event type renamed by a migration", () => {
  it("a policy change written as community_policy_changed after migrations/0009 ran is still listed as policy_changed", async () => {
    // docs/deploy.md applies migrations before the new code is deployed: until it is, the previous
    // release writes the old name, and a guard's pending record may carry it later still.
    const admin = await newUser();
    const data = JSON.stringify({ communityId: "c-legacy", communityName: "Legacy Club", requireTwoFactor: 1 });
    await env.DB.prepare(
      "INSERT INTO events (id, user_id, type, at, ip, user_agent, actor_id, data) VALUES (?, ?, 'community_policy_changed', ?, NULL, NULL, NULL, ?)",
    )
      .bind(`legacy-${Math.random().toString(36).slice(2, 10)}`, admin.id, Date.now() + 1000, data)
      .run();
    const page = await admin.client.json("GET", "/api/security");
    expect(page.status).toBe(200);
    const types = (page.body.events as { type: string }[]).map((e) => e.type);
    expect(types).toContain("policy_changed");
    expect(types).not.toContain("community_policy_changed");
    const event = (page.body.events as { type: string; data?: Record<string, unknown> }[]).find((e) => e.type === "policy_changed");
    expect(event?.data).toMatchObject({ communityName: "Legacy Club" });
  });
});
