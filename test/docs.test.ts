/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

/**
 * docs/security.md is where a reader finds each attack and the suite that
 * proves it. Two ways it went wrong before: a suite nobody listed, and a
 * finding's row written twice when two branches touched the table.
 */

const suites = Object.keys(import.meta.glob("./*.security.test.ts")).map((p) => `test/${p.slice(2)}`);
const security = Object.values(import.meta.glob<string>("../docs/security.md", { query: "?raw", import: "default", eager: true }))[0] as string;
const findingIds = [...security.matchAll(/^\| (R\d+[a-z]*) \|/gm)].map((m) => m[1] as string);

/** R9a < R9b < R10a < R11x < R12a < R12za: the number, then the letters by length, then alphabetically. */
function order(id: string): [number, number, string] {
  const [, n, letters] = /^R(\d+)([a-z]*)$/.exec(id) as RegExpExecArray;
  return [Number(n), (letters as string).length, letters as string];
}
const compare = (a: string, b: string) => {
  const [x, y] = [order(a), order(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
};

describe("docs/security.md", () => {
  it("names every security suite", () => {
    expect(suites.length).toBeGreaterThan(20);
    expect(suites.filter((s) => !security.includes(`\`${s}\``))).toEqual([]);
  });

  it("has one row per finding, in order", () => {
    expect(findingIds.length).toBeGreaterThan(50);
    expect(findingIds.filter((id, i) => findingIds.indexOf(id) !== i)).toEqual([]);
    expect(findingIds).toEqual([...findingIds].sort(compare));
  });
});
