// Writes a run into docs/benchmarks.md: `--label after` (the default) into the
// main measured section, `--label before` into its own section, which later
// "after" runs read to put both side by side. Each section keeps its run's
// results as JSON in an HTML comment, so the comparison needs no other file.
import { readMarked, replaceMarked } from "../../load/lib/doc.mjs";
import { renderComparison } from "./compare.mjs";

const SECTIONS = {
  after: {
    heading: "## Measured",
    startMark: "<!-- bench:start (written by `npm run bench`) -->",
    endMark: "<!-- bench:end -->",
  },
  before: {
    heading: "## Measured before the performance work",
    startMark: "<!-- bench-before:start (written by `npm run bench -- --label before`) -->",
    endMark: "<!-- bench-before:end -->",
  },
};
const DATA = "<!-- bench-data ";

/** JSON inside an HTML comment: no `--` may appear, and JSON strings can spell `-` as \u002d. */
function dataComment(results) {
  return `${DATA}${JSON.stringify(results).replaceAll("--", "-\\u002d")} -->`;
}

export function readResults(label) {
  const text = readMarked(SECTIONS[label]);
  const at = text?.indexOf(DATA) ?? -1;
  if (at === -1) return null;
  try {
    return JSON.parse(text.slice(at + DATA.length, text.indexOf(" -->", at)));
  } catch {
    return null;
  }
}

/** Writes `md` (and, for an "after" run, the comparison with the kept "before" run) into the label's section. */
export function writeBenchDoc(label, md, results) {
  const s = SECTIONS[label];
  const before = label === "after" ? readResults("before") : null;
  const comparison = before ? `\n${renderComparison(before, results)}` : "";
  const block = `\n${md}\n${comparison}\n${dataComment(results)}\n`;
  replaceMarked({ ...s, block, append: `${s.heading}\n\n${s.startMark}\n${s.endMark}` });
}
