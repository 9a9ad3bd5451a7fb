/**
 * The part of a client's address that its throttle buckets are keyed by: an
 * IPv4 address whole, an IPv6 address by its /64. One subscriber usually
 * holds a whole /64 (RFC 6177 advises handing out at least that much), so
 * keying by the full 128 bits would give an attacker 2^64 fresh buckets.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as the IPv4 address.
 * Every bucket keyed by client uses this one function (login, signup).
 */
export function clientAddress(ip: string | null): string {
  if (!ip) return "unknown";
  const text = ip.trim().toLowerCase();
  const v4 = parseIPv4(text);
  if (v4) return v4.join(".");
  const v6 = parseIPv6(text);
  if (!v6) return `other:${text.slice(0, 64)}`;
  if (v6.slice(0, 5).every((h) => h === 0) && v6[5] === 0xffff) {
    const [a, b] = [v6[6] as number, v6[7] as number];
    return [a >> 8, a & 255, b >> 8, b & 255].join(".");
  }
  return `${v6
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

function parseIPv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^[0-9]{1,3}$/.test(p) ? Number(p) : Number.NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** RFC 4291 §2.2 text forms: eight groups, `::` once, an IPv4 tail; a zone (`%eth0`) is dropped. */
function parseIPv6(text: string): number[] | null {
  let s = text.replace(/%.*$/, "");
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (lastColon !== -1 && s.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
    // Keep a `::` that ends right before the IPv4 tail; drop a single separating colon.
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith("::")) s = s.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const group = (h: string) => (h === "" ? [] : h.split(":"));
  const head = group(halves[0] as string);
  const rest = halves.length === 2 ? group(halves[1] as string) : [];
  const valid = (g: string) => /^[0-9a-f]{1,4}$/.test(g);
  if (![...head, ...rest].every(valid)) return null;
  const count = head.length + rest.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const zeros = Array<number>(8 - count).fill(0);
  return [...head.map((g) => Number.parseInt(g, 16)), ...(halves.length === 2 ? zeros : []), ...rest.map((g) => Number.parseInt(g, 16)), ...tail];
}
