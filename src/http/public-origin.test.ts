import { describe, expect, it } from "vitest";
import { publicOrigin, relyingParty } from "./public-origin";

const local = { host: "localhost", origin: "http://localhost:8787" };

describe("relyingParty", () => {
  it("uses the request's own host and origin when RP_ID and ORIGINS are empty (local development)", () => {
    expect(relyingParty({ RP_ID: "", RP_NAME: "Edge 2FA", ORIGINS: "" }, local)).toEqual({
      id: "localhost",
      name: "Edge 2FA",
      origins: ["http://localhost:8787"],
    });
  });

  it("uses the configured RP ID and every configured origin, trimmed, ignoring the request", () => {
    const rp = relyingParty({ RP_ID: " example.com ", RP_NAME: "Example", ORIGINS: "https://example.com, https://login.example.com ," }, local);
    expect(rp).toEqual({ id: "example.com", name: "Example", origins: ["https://example.com", "https://login.example.com"] });
  });

  it("falls back to a default name", () => {
    expect(relyingParty({ RP_ID: "", RP_NAME: "", ORIGINS: "" }, local).name).toBe("Edge 2FA");
  });

  it("fails closed on any other host when RP_ID or ORIGINS is empty: the request's host is never trusted there", () => {
    const elsewhere = { host: "login.example.com", origin: "https://login.example.com" };
    expect(() => relyingParty({ RP_ID: "", RP_NAME: "", ORIGINS: "" }, elsewhere)).toThrow(/not configured/);
    expect(() => relyingParty({ RP_ID: "example.com", RP_NAME: "", ORIGINS: "" }, elsewhere)).toThrow(/not configured/);
    expect(() => relyingParty({ RP_ID: "", RP_NAME: "", ORIGINS: "https://login.example.com" }, elsewhere)).toThrow(/not configured/);
    expect(relyingParty({ RP_ID: "", RP_NAME: "", ORIGINS: "" }, { host: "127.0.0.1", origin: "http://127.0.0.1:8787" }).origins).toEqual([
      "http://127.0.0.1:8787",
    ]);
  });
});

describe("publicOrigin", () => {
  it("is the first configured origin, whatever host the request names; the request's own only on localhost", () => {
    expect(publicOrigin({ ORIGINS: " https://auth.example.com/ , https://login.example.com" }, { host: "evil.example", origin: "https://evil.example" })).toBe(
      "https://auth.example.com",
    );
    expect(publicOrigin({ ORIGINS: "" }, local)).toBe("http://localhost:8787");
    expect(() => publicOrigin({ ORIGINS: "" }, { host: "evil.example", origin: "https://evil.example" })).toThrow(/not configured/);
  });
});
