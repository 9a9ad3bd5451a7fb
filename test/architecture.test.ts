/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

/**
 * The layout docs/architecture.md draws, kept by a test: which folder may
 * import which, no import cycles (type-only imports count too), no route file
 * importing another, and small files. Imports are read from the source text
 * (every `import … from`, `export … from` and `import("…")`).
 */

const sources = import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true });
/** Path from the repository root → source text; tests beside the code are not part of the layout. */
const files = new Map(
  Object.entries(sources)
    .map(([path, text]) => [path.replace(/^\.\.\//, ""), text] as const)
    .filter(([path]) => !path.endsWith(".test.ts") && !path.endsWith(".d.ts")),
);

function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  const base = parts.join("/");
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) if (files.has(candidate)) return candidate;
  throw new Error(`${from}: cannot resolve ${specifier}`);
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|import\("([^"]+)"\)|(?:^|\n)\s*import\s+"([^"]+)"/g;

/** Each file's imports: project files (resolved) and packages (as written). */
const graph = new Map<string, { files: string[]; packages: string[] }>();
for (const [path, text] of files) {
  const found = { files: [] as string[], packages: [] as string[] };
  for (const m of text.matchAll(IMPORT)) {
    const specifier = (m[1] ?? m[2] ?? m[3]) as string;
    const target = resolve(path, specifier);
    if (target) found.files.push(target);
    else found.packages.push(specifier);
  }
  graph.set(path, found);
}

const folder = (path: string) => path.split("/").slice(1, -1).join("/") || "(root)";
const isRoute = (path: string) => /(^|\/|-)routes\.ts$/.test(path);

describe("the import graph", () => {
  it("reads the source: every folder of the layout is there, and imports were found", () => {
    expect([...new Set([...files.keys()].map((p) => folder(p).split("/")[0]))].sort()).toEqual(
      [
        "(root)",
        "audit",
        "auth",
        "backup-codes",
        "communities",
        "factors",
        "guard",
        "http",
        "invitations",
        "lib",
        "notify",
        "ops",
        "recovery",
        "security",
      ].sort(),
    );
    expect(graph.get("src/index.ts")?.files).toContain("src/guard/user-guard.ts");
  });

  it("has no cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
      state.set(node, "open");
      stack.push(node);
      for (const next of graph.get(node)?.files ?? []) {
        if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(node, "done");
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    expect(cycles).toEqual([]);
  });

  it("no route file imports another route file: src/index.ts mounts them all", () => {
    const routeFiles = [...files.keys()].filter(isRoute);
    expect(routeFiles.length).toBeGreaterThanOrEqual(6);
    const crossings = routeFiles.flatMap((r) => (graph.get(r)?.files ?? []).filter(isRoute).map((t) => `${r} -> ${t}`));
    expect(crossings).toEqual([]);
  });

  it("keeps each folder to what it may know", () => {
    const rules: [string, (path: string, target: string) => boolean, string][] = [
      ["src/lib/", (_p, t) => t.startsWith("src/lib/"), "lib/ is plain helpers: it imports only lib/"],
      ["src/factors/", (_p, t) => t.startsWith("src/lib/") || t.startsWith("src/factors/"), "factors/ is protocol code: lib/ and factors/ only"],
      ["src/guard/", (_p, t) => !/^src\/(auth|http|security|communities|invitations)\//.test(t), "the guard knows no HTTP and no route's domain"],
      ["src/audit/", (_p, t) => t.startsWith("src/lib/") || t === "src/env.ts", "events are data: lib/ and env.ts only"],
      ["src/notify/", (_p, t) => !/^src\/(auth|http|guard|security|communities|invitations)\//.test(t), "mail knows events, not who sends it"],
    ];
    const broken: string[] = [];
    for (const [path, { files: targets }] of graph) {
      for (const [prefix, allowed, why] of rules) {
        if (!path.startsWith(prefix)) continue;
        for (const t of targets) if (!allowed(path, t)) broken.push(`${path} -> ${t} (${why})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("has no Hono in protocol code or the guard", () => {
    const withHono = [...graph]
      .filter(([path]) => path.startsWith("src/factors/") || path.startsWith("src/guard/") || path.startsWith("src/lib/"))
      .filter(([, { packages }]) => packages.some((p) => p === "hono" || p.startsWith("hono/") || p.startsWith("@hono/")))
      .map(([path]) => path);
    expect(withHono).toEqual([]);
  });
});

describe("file sizes", () => {
  const lines = (path: string) => (files.get(path) ?? "").split("\n").length;

  it("no source file is over 400 lines", () => {
    expect([...files.keys()].filter((p) => lines(p) > 400).map((p) => `${p}: ${lines(p)}`)).toEqual([]);
  });

  it("the guard's class, its RPC front, is under 300 lines", () => {
    const text = files.get("src/guard/user-guard.ts") ?? "";
    const start = text.indexOf("export class UserGuard");
    const end = text.indexOf("\n}\n", start);
    expect(start).toBeGreaterThan(0);
    expect(text.slice(start, end).split("\n").length).toBeLessThan(300);
  });
});
