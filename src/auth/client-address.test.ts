import { describe, expect, it } from "vitest";
import { clientAddress } from "./client-address";

describe("clientAddress", () => {
  it("keys an IPv4 address by the whole address", () => {
    expect(clientAddress("192.0.2.10")).toBe("192.0.2.10");
    expect(clientAddress("192.0.2.11")).toBe("192.0.2.11");
  });

  it("keys an IPv6 address by its /64, whatever its spelling", () => {
    const key = "2001:db8:1:2::/64";
    for (const ip of [
      "2001:db8:1:2::1",
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:DB8:1:2:0:0:0:5",
      "2001:0db8:0001:0002::abcd",
      "[2001:db8:1:2::7]",
      "2001:db8:1:2::1%eth0",
      "2001:db8:1:2:0:0:192.0.2.1",
    ]) {
      expect(clientAddress(ip), ip).toBe(key);
    }
    expect(clientAddress("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(clientAddress("::1")).toBe("0:0:0:0::/64");
    expect(clientAddress("fe80::1")).toBe("fe80:0:0:0::/64");
  });

  it("keys an IPv4-mapped IPv6 address as the IPv4 address", () => {
    expect(clientAddress("::ffff:192.0.2.10")).toBe("192.0.2.10");
    expect(clientAddress("::ffff:c000:20a")).toBe("192.0.2.10");
  });

  it("keeps anything else apart, bounded, and a missing address as one 'unknown' bucket", () => {
    expect(clientAddress(null)).toBe("unknown");
    expect(clientAddress("not an address")).toBe("other:not an address");
    expect(clientAddress("1:2:3:4:5:6:7:8:9")).toBe("other:1:2:3:4:5:6:7:8:9");
    expect(clientAddress("1::2::3")).toBe("other:1::2::3");
    expect(clientAddress("256.1.1.1")).toBe("other:256.1.1.1");
    expect(clientAddress("x".repeat(500))).toHaveLength("other:".length + 64);
  });
});
