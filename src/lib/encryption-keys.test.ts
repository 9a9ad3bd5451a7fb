import { describe, expect, it } from "vitest";
import { parseEncryptionKeys } from "./encryption-keys";

const KEY = btoa("k".repeat(32));

describe("parseEncryptionKeys", () => {
  it("reads the keys in order, the current one first", () => {
    const keys = parseEncryptionKeys(`new_2:${KEY}, old-1:${KEY}`);
    expect(keys.map((k) => k.id)).toEqual(["new_2", "old-1"]);
    expect(keys[0]?.raw).toHaveLength(32);
  });

  it("refuses an id that could split a token: '.' (a token's parts) and '~' (a device cookie's tokens), or any other sign", () => {
    for (const id of ["a.b", "a~b", "a b", "é", "x".repeat(33)]) {
      expect(() => parseEncryptionKeys(`${id}:${KEY}`), id).toThrow(/letters, digits/);
    }
  });

  it("refuses a key of the wrong size, and a list with no key", () => {
    expect(() => parseEncryptionKeys(`k1:${btoa("short")}`)).toThrow(/32 bytes/);
    expect(() => parseEncryptionKeys("")).toThrow(/no key/);
  });
});
