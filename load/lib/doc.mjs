// Shared by the load test and the benchmarks: each writes its report into
// docs/benchmarks.md between its own pair of HTML comment markers, leaving the
// hand-written method sections around them alone.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCHMARKS_DOC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "benchmarks.md");

/**
 * Replaces what lies between the comment that starts with `startMark` and
 * `endMark` with `block`. Answers false (and writes nothing) when the file or
 * a marker is missing, unless `append` gives the text to add at the end of the
 * file first (a heading and both markers).
 */
export function replaceMarked({ path = BENCHMARKS_DOC, startMark, endMark, block, append }) {
  let doc = existsSync(path) ? readFileSync(path, "utf8") : null;
  const has = (d) => d !== null && d.indexOf(startMark) !== -1 && d.indexOf(endMark) > d.indexOf(startMark);
  if (!has(doc)) {
    if (!append) return false;
    doc = `${(doc ?? "").trimEnd()}\n\n${append}\n`;
  }
  const a = doc.indexOf(startMark);
  const s = doc.indexOf("-->", a) + 3;
  const e = doc.indexOf(endMark);
  writeFileSync(path, `${doc.slice(0, s)}${block}${doc.slice(e)}`);
  return true;
}

/** The text between the markers, or null. */
export function readMarked({ path = BENCHMARKS_DOC, startMark, endMark }) {
  if (!existsSync(path)) return null;
  const doc = readFileSync(path, "utf8");
  const a = doc.indexOf(startMark);
  const e = doc.indexOf(endMark);
  if (a === -1 || e === -1 || e < a) return null;
  return doc.slice(doc.indexOf("-->", a) + 3, e);
}
