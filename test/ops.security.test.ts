import { afterEach, describe, expect, it, vi } from "vitest";
import { expectProblem, problemOf } from "./support/client";
import { enableTOTP, newUser } from "./support/fixtures";
import { OPS_TOKEN, opsReset, opsResetWithoutSecret } from "./support/ops";
import { recoveryRow } from "./support/stores";

afterEach(() => {
  vi.useRealTimers();
});

describe("operator recovery: the token", () => {
  it("without the OPS_TOKEN secret the route does not exist: 404, even with a token", async () => {
    const user = await newUser();
    await expectProblem(await opsResetWithoutSecret(user.email), 404, "not_found");
    expect(await recoveryRow(user.id)).toBeNull();
  });

  it("no token, another scheme, or a wrong token of any length: 401 unauthenticated, nothing reset", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    await expectProblem(await opsReset(user.email, null, "198.51.100.1"), 401, "unauthenticated");
    await expectProblem(await opsReset(user.email, `${OPS_TOKEN}x`, "198.51.100.2"), 401, "unauthenticated");
    await expectProblem(await opsReset(user.email, OPS_TOKEN.slice(0, -1), "198.51.100.3"), 401, "unauthenticated");
    // The token before the body: a wrong token with a bad body is still 401.
    await expectProblem(await opsReset(42, "wrong", "198.51.100.4"), 401, "unauthenticated");
    expect(await recoveryRow(user.id)).toBeNull();
    expect((await user.client.json("GET", "/api/me")).status).toBe(200);
  });

  it("a wrong token 20 times in parallel: no reset, and the throttle answers 429 before 20 guesses are checked; then even the right token waits", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const user = await newUser();
    await enableTOTP(user.client);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => opsReset(user.email, `guess-${i}`, `203.0.113.${i + 1}`)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // Twenty addresses, one shared bucket: at most 10 guesses were compared.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(limited)).code).toBe("too_many_attempts");
    expect(await recoveryRow(user.id)).toBeNull();

    // The operator waits like anyone else; the bucket refills with time, not with retries.
    expect((await opsReset(user.email, OPS_TOKEN, "192.0.2.50")).status).toBe(429);
    vi.setSystemTime(Date.now() + 10 * 60_000);
    expect((await opsReset(user.email, OPS_TOKEN, "192.0.2.50")).status).toBe(200);
    expect((await recoveryRow(user.id))?.issued_by).toBe("operator");
  });
});
