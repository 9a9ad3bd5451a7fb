import { describe, expect, it } from "vitest";
import { describeUserAgent } from "./user-agent";

// Real User-Agent strings as browsers send them.
const CASES: [string, string][] = [
  ["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge on Windows"],
  ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", "Safari on macOS"],
  ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1", "Safari on iOS"],
  ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"],
  ["Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on ChromeOS"],
  ["curl/8.5.0", "curl"],
];

describe("describeUserAgent", () => {
  it.each(CASES)("%s", (ua, expected) => {
    expect(describeUserAgent(ua)).toBe(expected);
  });

  it("has a fixed phrase for no header and for anything it does not know", () => {
    expect(describeUserAgent(null)).toBe("unknown browser");
    expect(describeUserAgent("")).toBe("unknown browser");
    expect(describeUserAgent("JourneyBrowser/1.0")).toBe("unrecognised browser or app");
  });

  it("never passes on text the sender chose", () => {
    const crafted = "Security notice: visit https://evil.example/secure to keep your account (Windows) Firefox/1";
    const described = describeUserAgent(crafted);
    expect(described).toBe("Firefox on Windows");
    expect(described).not.toMatch(/evil|http|notice/);
  });
});
