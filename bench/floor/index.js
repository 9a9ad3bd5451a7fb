import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

// The design's floor: the shape of a second step with none of its work. A
// request with a small JSON body makes one call to a Durable Object of 96
// (one per user in the service), which writes one row of its SQLite (the
// single-use claim), then one write to D1 (the session moving on), and answers
// JSON. The service's second step does exactly these hops plus everything that
// makes it a second step, so verify / floor is the service's own cost and
// floor / hello the runtime's price for the hops (docs/benchmarks.md).
export class Claim extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS claims (id INTEGER PRIMARY KEY, step INTEGER NOT NULL)");
  }

  claim(step) {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO claims (id, step) VALUES (1, ?)", step);
    return true;
  }
}

const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));
app.post("/step", async (c) => {
  const body = await c.req.json();
  const user = String(Math.floor(Math.random() * 96));
  await c.env.CLAIM.get(c.env.CLAIM.idFromName(user)).claim(Math.floor(Date.now() / 30_000));
  const now = Date.now();
  await c.env.DB.prepare("INSERT OR REPLACE INTO sessions (id, user_id, stage, updated_at) VALUES (?, ?, ?, ?)")
    .bind(crypto.randomUUID(), user, typeof body.code === "string" ? "authenticated" : "second_factor", now)
    .run();
  return c.json({ status: "authenticated" });
});

export default app;
