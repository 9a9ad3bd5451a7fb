import { createExecutionContext, createMessageBatch, env, getQueueResult, listDurableObjectIds, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ResetRequest } from "../src/auth/password-reset-queue";
import worker from "../src/index";
import { AGENTS, ORIGIN } from "./support/client";
import { newUser, uniqueEmail } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { guardRows, outboxOf, worldSnapshot } from "./support/stores";

/**
 * Enumeration through time: a password-reset request must cost the same
 * whether or not the email has an account. Timing is measured by the load
 * test, not asserted here; what is asserted is its cause: the request's own
 * invocation (its answer and everything it leaves running after) does the
 * same with the bindings for every email, and all that differs for an
 * account happens in the queue's consumer (src/auth/password-reset-queue.ts).
 *
 * Here the test is the queue: the Worker is called as the runtime calls it,
 * with the real bindings (each call named in a log) except the producer,
 * which keeps what the route sent; the test then hands those messages to the
 * Worker's queue() handler as the platform would.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

type Held = { body: ResetRequest; options: unknown };

/** The real env with each binding's calls logged by name (no arguments: they differ by email by design), and a producer that holds its messages. */
function observedEnv(log: string[], held: Held[]): typeof env {
  const logged = <T extends object>(name: string, binding: T): T =>
    new Proxy(binding, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          log.push(`${name}.${String(prop)}`);
          return Reflect.apply(value, target, args);
        };
      },
    });
  const queue = {
    send: async (body: ResetRequest, options?: unknown) => {
      log.push("PASSWORD_RESETS.send");
      held.push({ body, options });
    },
  };
  return {
    ...env,
    DB: logged("DB", env.DB),
    USER_GUARD: logged("USER_GUARD", env.USER_GUARD),
    THROTTLE: logged("THROTTLE", env.THROTTLE),
    EMAIL: logged("EMAIL", env.EMAIL),
    PASSWORD_RESETS: queue as unknown as Queue,
  };
}

const CLIENT_IP = "198.51.100.7";

/** One reset request through the Worker's fetch(), waiting for everything the invocation left running. */
async function askForReset(email: string, acceptLanguage = "en"): Promise<{ res: Response; body: string; log: string[]; held: Held[] }> {
  const log: string[] = [];
  const held: Held[] = [];
  const ctx = createExecutionContext();
  const req = new Request(`${ORIGIN}/api/auth/password-reset`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": CLIENT_IP, "User-Agent": AGENTS.laptop[0], "Accept-Language": acceptLanguage },
    body: JSON.stringify({ email }),
  });
  const res = await worker.fetch(req, observedEnv(log, held), ctx);
  const body = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, body, log, held };
}

let nextId = 0;

/**
 * Hands messages to the Worker's queue() handler as one batch: its acks and
 * retries, and each retry's delay (read from the call: the plugin's result
 * does not keep it).
 */
async function deliver(bodies: unknown[], attempts = 1) {
  const messages = bodies.map((body) => ({ id: `m${++nextId}`, timestamp: Date.now(), attempts, body }));
  const batch = createMessageBatch("edge-2fa-password-resets", messages);
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  const delays = retries.flatMap((spy) => spy.mock.calls.map(([options]) => options?.delaySeconds));
  return { ids: messages.map((m) => m.id), result, delays };
}

const resetTokens = (userId: string) => guardRows(userId, "SELECT purpose FROM tokens WHERE purpose = 'password_reset'");

describe("the request for a reset link", () => {
  it("does the same with every binding for a known and an unknown email, answers alike, and leaves the link to the queue", async () => {
    const user = await newUser();
    const unknown = await askForReset(uniqueEmail("nobody"));
    const known = await askForReset(user.email);

    expect([unknown.res.status, known.res.status]).toEqual([202, 202]);
    expect([unknown.body, known.body]).toEqual(["", ""]);
    const headers = (r: Response) => [...r.headers.entries()].filter(([k]) => k !== "x-request-id").sort();
    expect(headers(known.res)).toEqual(headers(unknown.res));
    // The same calls in the same order, the answer and what ran after it included: one message each, no lookup, no guard.
    expect(known.log).toEqual(unknown.log);
    expect(known.log.filter((call) => call.startsWith("PASSWORD_RESETS."))).toEqual(["PASSWORD_RESETS.send"]);
    expect(known.log.filter((call) => call.startsWith("DB.") || call.startsWith("USER_GUARD."))).toEqual([]);
    expect(await resetTokens(user.id)).toEqual([]);
    expect(mail.to(user.email).filter((m) => m.subject === "Reset your password")).toEqual([]);
    expect(known.held.map((h) => h.options)).toEqual(unknown.held.map((h) => h.options));
  });

  it("sends a message with what the email needs, no token, no secret, not even the requester's address; the consumer then mails the link", async () => {
    const user = await newUser();
    const before = Date.now();
    const { res, held } = await askForReset(user.email);
    expect(held).toHaveLength(1);
    const message = held[0]!.body;
    expect(message).toEqual({
      email: user.email,
      lang: "en",
      origin: ORIGIN,
      at: expect.any(Number),
      requestId: res.headers.get("x-request-id"),
    });
    expect(message.at).toBeGreaterThanOrEqual(before);

    const { ids, result } = await deliver([message]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    const token = await mail.nextToken(user.email, "reset-password");
    const secret = token.slice(token.indexOf(".") + 1);
    expect(JSON.stringify(message)).not.toContain(secret);
    expect(mail.to(user.email).at(-1)!.subject).toBe("Reset your password");
  });
});

describe("the queue's consumer", () => {
  it("writes the link in the owner's stored language, not the asker's; with none stored, in the asker's", async () => {
    const french = await newUser({ acceptLanguage: "fr" });
    await deliver([(await askForReset(french.email, "en")).held[0]!.body]);
    await mail.nextToken(french.email, "reset-password");
    expect(mail.to(french.email).at(-1)!.subject).toBe("Réinitialisez votre mot de passe");

    const unstored = await newUser();
    await env.DB.prepare("UPDATE users SET lang = NULL WHERE id = ?").bind(unstored.id).run();
    await deliver([(await askForReset(unstored.email, "fr-CA, en;q=0.5")).held[0]!.body]);
    await mail.nextToken(unstored.email, "reset-password");
    expect(mail.to(unstored.email).at(-1)!.subject).toBe("Réinitialisez votre mot de passe");
  });

  it("acks an unknown email's message and changes nothing: no token, no email, no guard", async () => {
    const email = uniqueEmail("nobody");
    const { held } = await askForReset(email);
    const before = await worldSnapshot();
    const guards = (await listDurableObjectIds(env.USER_GUARD)).length;
    const { ids, result } = await deliver(held.map((h) => h.body));
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);
    expect(await worldSnapshot()).toEqual(before);
    expect((await listDurableObjectIds(env.USER_GUARD)).length).toBe(guards);
    expect(mail.to(email)).toEqual([]);
  });

  it("retries a message whose guard fails, with a delay, acks the others of its batch, and issues the link when tried again", async () => {
    const broken = await newUser();
    const healthy = await newUser();
    const brokenAsk = (await askForReset(broken.email)).held[0]!.body;
    const healthyAsk = (await askForReset(healthy.email)).held[0]!.body;
    // A real failure inside the guard: the table its tokens go to is away.
    await guardRows(broken.id, "ALTER TABLE tokens RENAME TO tokens_away");
    const warn = vi.spyOn(console, "warn");
    try {
      const { ids, result, delays } = await deliver([brokenAsk, healthyAsk]);
      expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
      expect(delays).toEqual([5]);
      expect(result.explicitAcks).toEqual([ids[1]]);
      expect(result.retryBatch.retry).toBe(false);
      // One line, fixed text and the request's id: not the address, not the error's message.
      expect(warn.mock.calls.map((args) => args.join(" "))).toEqual([`password reset: Error on attempt 1; will retry (request ${brokenAsk.requestId})`]);
    } finally {
      warn.mockRestore();
      await guardRows(broken.id, "ALTER TABLE tokens_away RENAME TO tokens");
    }
    expect(await resetTokens(broken.id)).toEqual([]);
    expect((await outboxOf(broken.id)).filter((r) => r.template === "password_reset_link")).toEqual([]);
    await mail.nextToken(healthy.email, "reset-password");

    const again = await deliver([brokenAsk], 2);
    expect(again.result.explicitAcks).toEqual(again.ids);
    expect(await resetTokens(broken.id)).toHaveLength(1);
    await mail.nextToken(broken.email, "reset-password");
  });

  it("waits longer after each failed attempt", async () => {
    const user = await newUser();
    const ask = (await askForReset(user.email)).held[0]!.body;
    await guardRows(user.id, "ALTER TABLE tokens RENAME TO tokens_away");
    try {
      const delays: (number | undefined)[] = [];
      for (const attempts of [1, 2, 3, 4]) delays.push(...(await deliver([ask], attempts)).delays);
      expect(delays).toEqual([5, 10, 20, 40]);
    } finally {
      await guardRows(user.id, "ALTER TABLE tokens_away RENAME TO tokens");
    }
  });

  it("drops a message that is not a reset request (it could never succeed) and changes nothing", async () => {
    const user = await newUser();
    const before = await worldSnapshot();
    const { ids, result } = await deliver([{ email: user.email }, "not an object", { email: "nope", lang: "en" }]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    expect(await worldSnapshot()).toEqual(before);
  });
});
