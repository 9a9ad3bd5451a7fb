import { describe, expect, it } from "vitest";
import { constantTimeEqual, timingSafeEqual } from "./constant-time";

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("timingSafeEqual and its fallback", () => {
  for (const [name, equal] of [
    ["timingSafeEqual (the runtime's)", timingSafeEqual],
    ["constantTimeEqual (the fallback)", constantTimeEqual],
  ] as const) {
    it(`${name}: equal, one bit apart at either end, different lengths, empty`, () => {
      expect(equal(bytes(1, 2, 3), bytes(1, 2, 3))).toBe(true);
      expect(equal(bytes(1, 2, 3), bytes(0, 2, 3))).toBe(false);
      expect(equal(bytes(1, 2, 3), bytes(1, 2, 2))).toBe(false);
      expect(equal(bytes(1, 2, 3), bytes(1, 2))).toBe(false);
      expect(equal(bytes(), bytes())).toBe(true);
    });
  }
});
