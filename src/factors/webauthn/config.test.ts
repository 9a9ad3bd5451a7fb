import { describe, expect, it } from "vitest";
import { relyingParty } from "./config";

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
});
