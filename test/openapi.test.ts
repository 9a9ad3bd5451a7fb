import { beforeAll, describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { type AdminWorld, communityWithMember, enableTOTP, newUser, PASSWORD, uniqueEmail } from "./support/fixtures";
import { bodySchema, contractEndpoints, fillPath, key, type OpenAPIDocument, openAPIDocument, operationsOf, requiredOf, resolve } from "./support/openapi";
import { operatorClient } from "./support/ops";

/**
 * The OpenAPI document is generated from the zod schemas that validate
 * requests (@hono/zod-openapi). These tests hold it to the contract
 * (docs/api.md) and to the validator.
 */

/** The document describes itself; it is not part of the contract's tables. */
const SELF_DESCRIPTION = "GET /api/openapi.json";

let doc: OpenAPIDocument;
beforeAll(async () => {
  doc = await openAPIDocument();
});

describe("GET /api/openapi.json", () => {
  it("is an OpenAPI 3.1 document served as JSON", async () => {
    const res = await new Client().get("/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = (await res.json()) as OpenAPIDocument;
    expect(body.openapi).toMatch(/^3\.1\.\d+$/);
    expect(body.info.title).toBeTruthy();
    expect(Object.keys(body.paths).length).toBeGreaterThan(0);
  });

  it("reads the contract's endpoint tables (the parser finds what the contract lists)", () => {
    const contract = contractEndpoints();
    // Anchors from each table of docs/api.md: a parser that finds nothing must fail here.
    for (const k of [
      "POST /api/auth/signup",
      "POST /api/auth/verify",
      "GET /api/me",
      "POST /api/security/totp/{}/confirm",
      "DELETE /api/security/methods/{}",
      "POST /api/communities/{}/members/{}/reset-2fa",
      "POST /api/invitations/{}/accept",
    ]) {
      expect(contract).toContain(k);
    }
    expect(contract.size).toBeGreaterThanOrEqual(20);
  });

  it("documents every endpoint of the contract, and nothing the contract does not list", () => {
    const contract = contractEndpoints();
    const documented = new Set(operationsOf(doc).map((op) => key(op.method, op.path)));
    const missing = [...contract].filter((k) => !documented.has(k)).sort();
    const undocumented = [...documented].filter((k) => !contract.has(k) && k !== SELF_DESCRIPTION).sort();
    expect(missing, "in docs/api.md but not in /api/openapi.json").toEqual([]);
    expect(undocumented, "in /api/openapi.json but not in docs/api.md").toEqual([]);
  });

  it("declares every path parameter of every operation", () => {
    for (const op of operationsOf(doc)) {
      const inPath = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.operation.parameters ?? [])
        .filter((p) => p.in === "path")
        .map((p) => {
          expect(p.required, `${op.method} ${op.path} ${p.name}`).toBe(true);
          return p.name;
        })
        .sort();
      expect(declared, `${op.method.toUpperCase()} ${op.path}`).toEqual(inPath);
    }
  });

  it("documents the members the last refused second steps before a lock add to the problem", () => {
    const problem = doc.components?.schemas?.Problem as { properties: Record<string, { type?: string }> } | undefined;
    expect(problem?.properties.attemptsLeft?.type).toBe("integer");
    expect(problem?.properties.lockSeconds?.type).toBe("integer");
  });

  it("documents problem+json for the errors of every operation that can fail", () => {
    for (const op of operationsOf(doc)) {
      const errors = Object.entries(op.operation.responses ?? {}).filter(([status]) => Number(status) >= 400);
      for (const [status, response] of errors) {
        expect(Object.keys((response as { content?: object }).content ?? {}), `${op.method} ${op.path} ${status}`).toEqual(["application/problem+json"]);
      }
    }
  });
});

describe("request bodies in the document are the schemas that validate", () => {
  it("signup: the password bounds in the document are the validator's, counted in code points", async () => {
    const signup = operationsOf(doc).find((op) => key(op.method, op.path) === "POST /api/auth/signup");
    const schema = signup && bodySchema(doc, signup);
    expect(requiredOf(doc, schema)).toEqual(["email", "name", "password"]);
    const password = resolve(doc, schema?.properties?.password);
    expect(password?.minLength).toBe(15);
    expect(password?.maxLength).toBe(128);

    const client = new Client();
    const tryPassword = (pw: string) => client.json("POST", "/api/auth/signup", { email: uniqueEmail("bounds"), password: pw, name: "Bounds" });
    // One below, at, at the top and one above each bound. Astral characters are
    // one code point but two UTF-16 units: JSON Schema and the validator both count the former.
    const short = await tryPassword("x".repeat(14));
    expect(short.status).toBe(400);
    expect(short.body.errors.map((e: { path: string }) => e.path)).toEqual(["password"]);
    expect((await tryPassword("😀".repeat(15))).status).toBe(201);
    expect((await tryPassword("y".repeat(128))).status).toBe(201);
    const long = await tryPassword("z".repeat(129));
    expect(long.status).toBe(400);
    expect(long.body.errors.map((e: { path: string }) => e.path)).toEqual(["password"]);
  });

  describe("an empty body is refused naming exactly the fields the document requires", () => {
    let world: AdminWorld;
    let halfLoggedIn: Client;

    beforeAll(async () => {
      world = await communityWithMember();
      const withTOTP = await newUser();
      await enableTOTP(withTOTP.client);
      halfLoggedIn = new Client();
      const login = await halfLoggedIn.json("POST", "/api/auth/login", { email: withTOTP.email, password: PASSWORD });
      expect(login.body.status).toBe("second_factor_required");
    });

    /** A caller that passes every check the contract orders before validation. */
    function callerFor(path: string): Client {
      if (path === "/api/auth/verify") return halfLoggedIn;
      if (path.startsWith("/api/auth/")) return new Client();
      if (path.startsWith("/api/ops/")) return operatorClient();
      return world.admin.client;
    }

    it("for every operation with required body fields", async () => {
      const checked: string[] = [];
      for (const op of operationsOf(doc)) {
        const required = requiredOf(doc, bodySchema(doc, op));
        if (required.length === 0) continue;
        const path = fillPath(op.path, { cid: world.admin.communityId, uid: world.member.id, id: "no-such-id" });
        const res = await callerFor(op.path).request(op.method.toUpperCase(), path, {});
        const label = `${op.method.toUpperCase()} ${op.path}`;
        expect(res.status, label).toBe(400);
        const problem = (await problemOf(res)) as { code: string; errors?: { path: string }[] };
        expect(problem.code, label).toBe("invalid_request");
        const named = [...new Set((problem.errors ?? []).map((e) => e.path))].sort();
        expect(named, label).toEqual(required);
        checked.push(label);
      }
      // Signup, login, verify, reauth, confirm, rename, preferred, disable, invitations, reset at least.
      expect(checked.length).toBeGreaterThanOrEqual(10);
    });
  });
});
