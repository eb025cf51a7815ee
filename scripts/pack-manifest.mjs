// The package.json that `npm pack`/`npm publish` ship. The repository's `prepare` builds dist/
// from sources the package does not ship (so that `npm ci` in a clone builds it); left in the
// packed manifest, npm warns about it on every install. `strip` (prepack) saves package.json and
// removes the build lifecycle scripts; `restore` (postpack) puts the saved file back unchanged.

import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const manifest = `${root}package.json`;
const saved = `${root}package.json.prepack`;
const LIFECYCLE = ["prepare", "prepack", "postpack"];

const command = process.argv[2];
if (command === "strip") {
  // A pack that died before postpack left its saved copy: that one is the real manifest.
  if (existsSync(saved)) renameSync(saved, manifest);
  copyFileSync(manifest, saved);
  const json = JSON.parse(readFileSync(manifest, "utf8"));
  for (const name of LIFECYCLE) delete json.scripts?.[name];
  writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
} else if (command === "restore") {
  if (existsSync(saved)) renameSync(saved, manifest);
} else {
  console.error("usage: node scripts/pack-manifest.mjs strip|restore");
  process.exit(2);
}
