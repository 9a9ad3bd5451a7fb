// Sizes: the Worker bundle as `wrangler deploy --dry-run --outdir` writes it,
// the pages' scripts and their string catalogues, raw and gzip (level 9).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

export function sizes(ctx) {
  const { dir, wrangler } = ctx.service;
  // Build the pages' scripts first: their size is measured and `npm start` would build them anyway.
  execFileSync(process.execPath, [join(dir, "scripts", "build-pages.mjs")], { cwd: dir, env: ctx.env, stdio: "inherit" });
  const outdir = join(ctx.tmp, "bundle");
  execFileSync(wrangler, ["deploy", "--dry-run", "--outdir", outdir], { cwd: dir, env: ctx.env, stdio: "pipe" });
  const sizeOf = (files) => files.reduce((acc, f) => acc + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const rawOf = (files) => files.reduce((acc, f) => acc + statSync(f).size, 0);
  const walk = (d, ext) =>
    !existsSync(d)
      ? []
      : readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name), ext) : e.name.endsWith(ext) ? [join(d, e.name)] : []));
  const bundleFiles = walk(outdir, ".js");
  const pageFiles = walk(join(dir, "public", "assets"), ".js");
  // The pages' words are data beside the scripts: one catalogue per language, and a page loads one.
  const catalogueFiles = walk(join(dir, "public", "assets", "i18n"), ".json");
  const largest = Math.max(0, ...catalogueFiles.map((f) => sizeOf([f])));
  const result = {
    worker: { raw: rawOf(bundleFiles), gzip: sizeOf(bundleFiles), files: bundleFiles.map((f) => relative(outdir, f)) },
    pages: { raw: rawOf(pageFiles), gzip: sizeOf(pageFiles), files: pageFiles.map((f) => relative(dir, f)) },
    catalogues: { raw: rawOf(catalogueFiles), gzip: sizeOf(catalogueFiles), largest, files: catalogueFiles.map((f) => relative(dir, f)) },
  };
  ctx.log(`worker bundle ${result.worker.gzip} B gzip, pages' scripts ${result.pages.gzip} B gzip, largest catalogue ${largest} B gzip`);
  return result;
}
