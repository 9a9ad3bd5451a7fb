import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, expectProblem, ORIGIN, problemOf, rawFetch } from "./support/client";
import { communityWithMember, enableTOTP, halfLoggedIn, newUser, PASSWORD, reauth, uniqueEmail } from "./support/fixtures";
import { bodySchema, fillPath, type JSONSchema, key, type OpenAPIDocument, openAPIDocument, operationsOf, requiredOf, resolve } from "./support/openapi";
import { operatorClient } from "./support/ops";
import { rowCounts, worldSnapshot } from "./support/stores";

const KiB = 1024;
const FOREIGN = "https://evil.example";

/** A JSON body of exactly `bytes` bytes (a signup with a padded name). */
function jsonOfSize(bytes: number): string {
  const base = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: "" });
  return base.replace('"name":""', `"name":"${"n".repeat(bytes - base.length)}"`);
}

/** A streamed body: no Content-Length, sent chunked. */
function streamOf(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
      controller.close();
    },
  });
}

describe("errors are RFC 9457 problem+json", () => {
  it("every kind of refusal has {type, title, status, detail, code} and nothing else but errors", async () => {
    const u = await newUser();
    const responses: Response[] = [
      await new Client().request("GET", "/api/me"), // 401
      await rawFetch("/api/nope"), // 404
      await new Client().request("POST", "/api/auth/login", "{not json"), // 400
      await new Client().request("POST", "/api/auth/login", "x".repeat(17 * KiB)), // 413
      await new Client().request("POST", "/api/auth/login", "a=b", { "Content-Type": "application/x-www-form-urlencoded" }), // 415
      await new Client().request("POST", "/api/auth/login", { email: u.email, password: PASSWORD }, { Origin: FOREIGN }), // 403
      await new Client().request("POST", "/api/auth/signup", { email: u.email, password: PASSWORD, name: "x" }), // 409
      await new Client().request("POST", "/api/auth/login", { email: u.email, password: "wrong password here" }), // 401
    ];
    const statuses = [];
    for (const res of responses) {
      expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(
        Object.keys(body)
          .filter((k) => k !== "errors")
          .sort(),
      ).toEqual(["code", "detail", "status", "title", "type"]);
      expect(body.status).toBe(res.status);
      expect(typeof body.type).toBe("string");
      expect(typeof body.title).toBe("string");
      expect(typeof body.detail).toBe("string");
      expect(body.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(JSON.stringify(body)).not.toMatch(/\bat \w+ \(|\.ts:\d+|<html/i);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 404, 400, 413, 415, 403, 409, 401]);
  });

  it("an unknown /api path is a 404 problem, for any method", async () => {
    for (const method of ["GET", "POST", "DELETE"]) {
      const res = await rawFetch("/api/does-not-exist", { method });
      await expectProblem(res, 404, "not_found");
    }
    // A known path with a method it does not have.
    await expectProblem(await rawFetch("/api/auth/login"), 404, "not_found");
  });
});

describe("500 internal", () => {
  it("an unexpected error is a plain 500 problem that never carries its message, and the service keeps serving", async () => {
    const u = await newUser();
    // A corrupt stored hash (not base64) makes the verifier throw deep inside.
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind("pbkdf2-sha256$1000$%%%not-base64%%%$%%%", u.id).run();
    const res = await new Client().request("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(res.status).toBe(500);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.code).toBe("internal");
    // Beside the contract's members, only the request's id (the one in X-Request-Id), to match a report with its log line.
    expect(Object.keys(body).sort()).toEqual(["code", "detail", "requestId", "status", "title", "type"]);
    expect(body.requestId).toBe(res.headers.get("X-Request-Id"));
    expect(JSON.stringify(body)).not.toMatch(/atob|base64|InvalidCharacter|\.ts:/i);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
  });
});

describe("413 for bodies over 16 KiB", () => {
  it("16 KiB exactly passes the size check; one byte more is 413", async () => {
    // Past the size check, the body is read and validated: the only fault is the over-long name.
    const ok = await new Client().request("POST", "/api/auth/signup", jsonOfSize(16 * KiB));
    const problem = (await expectProblem(ok, 400, "invalid_request")) as { errors?: { path: string }[] };
    expect(problem.errors?.map((e) => e.path)).toEqual(["name"]);
    const big = await new Client().request("POST", "/api/auth/signup", jsonOfSize(16 * KiB + 1));
    await expectProblem(big, 413, "payload_too_large");
  });

  it("also without Content-Length (a streamed body)", async () => {
    const res = await rawFetch("/api/auth/signup", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: streamOf(jsonOfSize(40 * KiB)),
      // @ts-expect-error: `duplex` is needed for a stream body and missing from the type.
      duplex: "half",
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("the service keeps serving afterwards", async () => {
    await new Client().request("POST", "/api/auth/signup", "x".repeat(64 * KiB));
    const u = await newUser();
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
  });
});

describe("415 for bodies that are not JSON", () => {
  const cases: [string, Record<string, string>][] = [
    ["text/plain", { "Content-Type": "text/plain" }],
    ["form-urlencoded", { "Content-Type": "application/x-www-form-urlencoded" }],
    ["multipart", { "Content-Type": "multipart/form-data; boundary=x" }],
    ["application/jsonx", { "Content-Type": "application/jsonx" }],
  ];
  for (const [name, headers] of cases) {
    it(`${name}: 415 unsupported_media_type`, async () => {
      const res = await new Client().request("POST", "/api/auth/login", JSON.stringify({ email: "a@example.com", password: PASSWORD }), headers);
      await expectProblem(res, 415, "unsupported_media_type");
    });
  }

  it("a body without any Content-Type: 415", async () => {
    const res = await rawFetch("/api/auth/login", {
      method: "POST",
      body: new TextEncoder().encode(JSON.stringify({ email: "a@example.com", password: PASSWORD })),
    });
    expect(res.status).toBe(415);
  });

  it("application/json with a charset parameter is accepted", async () => {
    const u = await newUser();
    const res = await new Client().request(
      "POST",
      "/api/auth/login",
      { email: u.email, password: PASSWORD },
      { "Content-Type": "Application/JSON; charset=utf-8" },
    );
    expect(res.status).toBe(200);
  });

  it("body-less endpoints accept no Content-Type (logout, accept)", async () => {
    const admin = await newUser({ community: "Body-less" });
    const member = await newUser();
    const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: member.email, role: "member" });
    expect(invite.status).toBe(201);
    // Neither request has a body or a Content-Type (rawFetch adds no headers of its own).
    const accept = await rawFetch(`/api/invitations/${invite.body.invitation.id}/accept`, {
      method: "POST",
      headers: { Cookie: `__Host-session=${member.client.cookie}` },
    });
    expect(accept.status).toBe(200);
    expect(await accept.json()).toEqual({ community: { id: admin.communityId, name: "Body-less", role: "member" } });
    const logout = await rawFetch("/api/auth/logout", { method: "POST", headers: { Cookie: `__Host-session=${member.client.cookie}` } });
    expect(logout.status).toBe(204);
    expect((await member.client.json("GET", "/api/me")).status).toBe(401);
  });

  it("a body-less logout sent as text/plain (a beacon) still answers 204 and ends the session", async () => {
    const u = await newUser();
    const res = await u.client.request("POST", "/api/auth/logout", undefined, { "Content-Type": "text/plain;charset=UTF-8" });
    expect(res.status).toBe(204);
    u.client.cookie = null;
    const count = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });
});

describe("403 csrf for a foreign Origin on state-changing requests", () => {
  it("refuses a foreign Origin and Origin: null on POST, PUT, PATCH and DELETE", async () => {
    const u = await newUser();
    const targets: [string, string, unknown][] = [
      ["POST", "/api/auth/login", { email: u.email, password: PASSWORD }],
      ["POST", "/api/auth/signup", { email: uniqueEmail(), password: PASSWORD, name: "x" }],
      ["POST", "/api/auth/logout", undefined],
      ["POST", "/api/security/reauth", { password: PASSWORD }],
      ["PUT", "/api/security/preferred", { method: "totp" }],
      ["PATCH", "/api/security/methods/abc", { name: "x" }],
      ["DELETE", "/api/security/methods/abc", undefined],
    ];
    for (const origin of [FOREIGN, "null", "http://localhost:8787", "https://localhost"]) {
      for (const [method, path, body] of targets) {
        const res = await u.client.request(method, path, body, { Origin: origin });
        expect(`${origin} ${method} ${path} ${res.status}`).toBe(`${origin} ${method} ${path} 403`);
        expect((await problemOf(res)).code).toBe("csrf");
      }
    }
    // None of them took effect: the session is still there.
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
  });

  it("a cross-site logout does not end the session", async () => {
    const u = await newUser();
    await u.client.request("POST", "/api/auth/logout", undefined, { Origin: FOREIGN });
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
  });

  it("same origin and no Origin pass", async () => {
    const u = await newUser();
    const same = await new Client().request("POST", "/api/auth/login", { email: u.email, password: PASSWORD }, { Origin: ORIGIN });
    expect(same.status).toBe(200);
    const none = await new Client().request("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(none.status).toBe(200);
  });

  it("safe methods are not refused for their Origin", async () => {
    const u = await newUser();
    const res = await u.client.request("GET", "/api/me", undefined, { Origin: FOREIGN });
    expect(res.status).toBe(200);
  });
});

describe("the contract's order of checks", () => {
  it("413 before csrf", async () => {
    const res = await new Client().request("POST", "/api/auth/login", "x".repeat(17 * KiB), { Origin: FOREIGN });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("csrf before 415", async () => {
    const res = await new Client().request("POST", "/api/auth/login", "hello", { Origin: FOREIGN, "Content-Type": "text/plain" });
    await expectProblem(res, 403, "csrf");
  });

  it("415 before 401 (no session)", async () => {
    const res = await new Client().request("POST", "/api/security/reauth", "hello", { "Content-Type": "text/plain" });
    await expectProblem(res, 415, "unsupported_media_type");
  });

  it("401 before 400 validation", async () => {
    const res = await new Client().request("POST", "/api/security/reauth", "{broken");
    await expectProblem(res, 401, "unauthenticated");
  });

  it("401 before 404 membership", async () => {
    const res = await new Client().request("GET", "/api/communities/no-such/members");
    await expectProblem(res, 401, "unauthenticated");
  });

  it("stage (403 second_factor_required) before 400 validation and before membership", async () => {
    const { half } = await halfLoggedIn();
    await expectProblem(await half.request("POST", "/api/security/reauth", "{broken"), 403, "second_factor_required");
    await expectProblem(await half.request("GET", "/api/communities/no-such/members"), 403, "second_factor_required");
  });

  it("membership (404 outsider, 403 member) before 400 validation", async () => {
    const { member, cid } = await communityWithMember();
    const outsider = await newUser();
    await expectProblem(await outsider.client.request("POST", `/api/communities/${cid}/invitations`, "{broken"), 404, "not_found");
    await expectProblem(await member.client.request("POST", `/api/communities/${cid}/invitations`, { role: 7 }), 403, "forbidden");
  });

  it("403 reauth_required before 400 validation", async () => {
    const u = await newUser();
    await expectProblem(await u.client.request("PATCH", "/api/security/methods/abc", { name: 12 }), 403, "reauth_required");
    await expectProblem(await u.client.request("POST", "/api/security/totp", "{broken"), 403, "reauth_required");
  });

  it("400 validation before 429", async () => {
    const email = uniqueEmail("order");
    const ip = "198.51.100.77";
    let last = 0;
    for (let i = 0; i < 11; i++) last = (await new Client(ip).request("POST", "/api/auth/login", { email, password: `wrong password ${i}` })).status;
    expect(last).toBe(429);
    await expectProblem(await new Client(ip).request("POST", "/api/auth/login", { email, password: 5 }), 400, "invalid_request");
    await expectProblem(await new Client(ip).request("POST", "/api/auth/login", "x".repeat(17 * KiB)), 413, "payload_too_large");
  });
});

describe("400 invalid_request lists field paths and never echoes values", () => {
  const secret = "hunter2-never-echo-this-PASSWORD-value";

  it("malformed JSON", async () => {
    const res = await new Client().request("POST", "/api/auth/login", `{"email": "a@example.com", "password": "${secret}"`);
    const problem = await expectProblem(res, 400, "invalid_request");
    expect(JSON.stringify(problem)).not.toContain(secret);
  });

  it("wrong types: both fields listed, no value echoed", async () => {
    const res = await new Client().json("POST", "/api/auth/signup", { email: 42, password: [secret], name: { n: secret } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_request");
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["email", "name", "password"]);
    for (const p of ["email", "name", "password"]) expect(res.body.detail).toContain(p);
    expect(JSON.stringify(res.body)).not.toContain(secret);
  });

  it("an invalid email next to a valid password: only email listed, neither echoed", async () => {
    const bad = `not-an-email-${secret}`;
    const res = await new Client().json("POST", "/api/auth/signup", { email: bad, password: secret, name: "Echo" });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["email"]);
    expect(JSON.stringify(res.body)).not.toContain(secret);
  });

  it("a too-short password is refused without echoing it", async () => {
    const res = await new Client().json("POST", "/api/auth/signup", { email: uniqueEmail(), password: "short-Secr3t", name: "Echo" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain("short-Secr3t");
  });

  it("missing fields are listed", async () => {
    const res = await new Client().json("POST", "/api/auth/login", {});
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["email", "password"]);
  });

  it("a body that is not an object (array, null, string, number)", async () => {
    for (const body of ["[]", "null", '"text"', "42"]) {
      const res = await new Client().request("POST", "/api/auth/login", body);
      expect(`${body} ${res.status}`).toBe(`${body} 400`);
      expect((await problemOf(res)).code).toBe("invalid_request");
    }
  });

  it("an empty body on a body-taking endpoint is 400", async () => {
    const res = await new Client().request("POST", "/api/auth/login", "");
    expect(res.status).toBe(400);
  });

  it("a wrong enum value in a nested endpoint", async () => {
    const admin = await newUser({ community: "Enum" });
    const res = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: uniqueEmail(), role: "owner" });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["role"]);
  });
});

describe("security headers on API responses", () => {
  it("success, 401, 404, 413 and 415 all carry them", async () => {
    const u = await newUser();
    const responses = [
      await u.client.request("GET", "/api/me"),
      await rawFetch("/api/openapi.json"),
      await new Client().request("GET", "/api/me"),
      await rawFetch("/api/nope"),
      await new Client().request("POST", "/api/auth/login", "x".repeat(17 * KiB)),
      await new Client().request("POST", "/api/auth/login", "x", { "Content-Type": "text/plain" }),
    ];
    for (const res of responses) {
      const h = res.headers;
      expect(h.get("X-Content-Type-Options")).toBe("nosniff");
      expect(h.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
      expect(h.get("Content-Security-Policy")).toContain("default-src 'none'");
      expect(h.get("Referrer-Policy")).toBe("no-referrer");
      expect(h.get("X-Frame-Options")).toBe("DENY");
      expect(h.get("Cache-Control")).toBe("no-store");
      expect(h.get("Strict-Transport-Security")).toBe("max-age=63072000; includeSubDomains");
      expect(h.get("X-Request-Id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(new Set(responses.map((r) => r.headers.get("X-Request-Id"))).size).toBe(responses.length);
  });

  it("the request id is always the service's own: one a client sends is never taken (it would write our log lines)", async () => {
    const chosen = "my-own-id-0123456789";
    const res = await new Client().request("GET", "/api/me", undefined, { "X-Request-Id": chosen });
    expect(res.status).toBe(401);
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("X-Request-Id")).not.toBe(chosen);
  });
});

describe("refused requests write nothing to D1", () => {
  it("oversized, wrong type, cross-site, malformed and invalid signups, logins and invitations leave every table as it was", async () => {
    const admin = await newUser({ community: "Unchanged" });
    const cid = admin.communityId!;
    const email = uniqueEmail();
    const before = await rowCounts();
    const stranger = new Client();
    // Each refusal with the one status and code it must get (413, then csrf, then 415, then validation).
    const attempts: [Client, string, string, unknown, Record<string, string> | undefined, number, string][] = [
      [stranger, "POST", "/api/auth/signup", jsonOfSize(17 * KiB), undefined, 413, "payload_too_large"],
      [
        stranger,
        "POST",
        "/api/auth/signup",
        JSON.stringify({ email, password: PASSWORD, name: "x" }),
        { "Content-Type": "text/plain" },
        415,
        "unsupported_media_type",
      ],
      [stranger, "POST", "/api/auth/signup", { email, password: PASSWORD, name: "x", community: "Evil" }, { Origin: FOREIGN }, 403, "csrf"],
      [stranger, "POST", "/api/auth/signup", `{"email":"${email}",`, undefined, 400, "invalid_request"],
      [stranger, "POST", "/api/auth/signup", { email, password: "too short", name: "x", community: "Evil" }, undefined, 400, "invalid_request"],
      [stranger, "POST", "/api/auth/signup", { email, password: PASSWORD, name: "", community: "Evil" }, undefined, 400, "invalid_request"],
      [stranger, "POST", "/api/auth/login", { email: admin.email, password: PASSWORD }, { Origin: FOREIGN }, 403, "csrf"],
      [stranger, "POST", "/api/auth/login", { email: admin.email, password: 1 }, undefined, 400, "invalid_request"],
      [admin.client, "POST", `/api/communities/${cid}/invitations`, { email, role: "member" }, { Origin: "null" }, 403, "csrf"],
      [admin.client, "POST", `/api/communities/${cid}/invitations`, { email, role: "root" }, undefined, 400, "invalid_request"],
      [
        admin.client,
        "POST",
        `/api/communities/${cid}/invitations`,
        JSON.stringify({ email, role: "member" }),
        { "Content-Type": "text/plain" },
        415,
        "unsupported_media_type",
      ],
      [admin.client, "POST", "/api/auth/logout", undefined, { Origin: FOREIGN }, 403, "csrf"],
    ];
    for (const [client, method, path, body, headers, status, code] of attempts) {
      const res = await client.request(method, path, body, headers ?? {});
      expect({ path, status: res.status, code: (await problemOf(res)).code }).toEqual({ path, status, code });
    }
    expect(await rowCounts()).toEqual(before);
  });
});

describe("bad input on every operation of the served OpenAPI document", () => {
  /** Every property a body schema names, a union's branches included. */
  function propertiesOf(doc: OpenAPIDocument, schema: JSONSchema | undefined): string[] {
    if (!schema) return [];
    const branches = (schema.oneOf ?? schema.anyOf ?? []).map((b) => resolve(doc, b));
    return [...new Set([...Object.keys(schema.properties ?? {}), ...branches.flatMap((b) => propertiesOf(doc, b))])].sort();
  }

  /**
   * A body each operation with an id in its path would accept, so that an unknown id is what it is refused
   * for. An operation missing here fails the walk: add its body.
   */
  const VALID_BODIES: Record<string, unknown> = {
    "POST /api/security/totp/{}/confirm": { code: "123456" },
    "PATCH /api/security/methods/{}": { name: "Renamed" },
    "POST /api/communities/{}/invitations": { email: "walk@example.com", role: "member" },
    "PUT /api/communities/{}/policy": { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: true },
    "POST /api/communities/{}/members/{}/reset-2fa": { password: PASSWORD },
    "POST /api/invitations/{}/accept": { token: "no-such-token" },
  };

  /** Ids no row has: made up, too long, and ones with characters a path or a statement could trip over. */
  const UNKNOWN_IDS = ["no-such-id", "A".repeat(22), "x".repeat(65), "%00", "' OR 1=1 --", "\u202Eevil", "😀"];

  it("malformed JSON, a body of the wrong type and an unknown id get a 4xx problem, never a 500, and change nothing", async () => {
    const doc = await openAPIDocument();
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    await reauth(world.admin.client);
    const { half } = await halfLoggedIn();
    const operator = operatorClient();
    const callerFor = (path: string): Client => {
      if (path === "/api/auth/verify" || path === "/api/auth/webauthn/options") return half;
      if (path.startsWith("/api/auth/")) return new Client();
      if (path.startsWith("/api/ops/")) return operator;
      return world.admin.client;
    };
    const real = { cid: world.cid, uid: world.member.id, id: "no-such-id" };
    const before = await worldSnapshot();
    const answers: string[] = [];
    const check = async (label: string, res: Response, expected: number[]) => {
      const type = res.headers.get("Content-Type") ?? "";
      answers.push(`${label}: ${res.status} ${type.split(";")[0]}`);
      expect(expected, `${label} answered ${res.status}`).toContain(res.status);
      expect(type, label).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as { status: number; code: string };
      expect(problem.status, label).toBe(res.status);
    };

    let bodies = 0;
    let ids = 0;
    for (const op of operationsOf(doc)) {
      const method = op.method.toUpperCase();
      const label = key(op.method, op.path);
      const client = callerFor(op.path);
      const schema = bodySchema(doc, op);
      if (op.operation.requestBody) {
        bodies += 1;
        const path = fillPath(op.path, real);
        await check(`${label} malformed`, await client.request(method, path, '{"oops": '), [400]);
        for (const body of ["[]", "null", '"text"', "42", "true"]) await check(`${label} ${body}`, await client.request(method, path, body), [400]);
        const props = propertiesOf(doc, schema);
        if (props.length > 0) {
          const wrong = Object.fromEntries(props.map((p) => [p, [[1]]]));
          await check(`${label} wrong types`, await client.request(method, path, wrong), [400]);
        }
      }
      const params = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      if (params.length > 0) {
        const body = VALID_BODIES[label];
        if (requiredOf(doc, schema).length > 0) expect(body, `a valid body for ${label} in VALID_BODIES`).toBeDefined();
        for (const param of params) {
          for (const unknown of UNKNOWN_IDS) {
            ids += 1;
            const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
              name === param ? encodeURIComponent(unknown) : encodeURIComponent(real[name as keyof typeof real]),
            );
            await check(`${label} ${param}=${JSON.stringify(unknown)}`, await client.request(method, path, body), [400, 404]);
          }
        }
      }
    }
    // Signup, login, verify, reauth, confirm, rename, preferred, disable, invitations, policy, reset, accept at least.
    expect(bodies).toBeGreaterThanOrEqual(12);
    expect(ids).toBeGreaterThanOrEqual(10 * UNKNOWN_IDS.length);
    const after = await worldSnapshot();
    expect(after.d1).toEqual(before.d1);
    expect(after.guards).toEqual(before.guards);
  });
});
