import { Hono } from "hono";

// Hono's hello world, nothing more: the floor for any request on this runtime.
const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));

export default app;
