// Finds the Chromium the browser test drives. Playwright downloads nothing here: it runs the
// distribution's browser (Debian: `apt-get install chromium`), or the one GRADC_CHROMIUM names.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const NAMES = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome"];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium executable to use, or undefined when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env.GRADC_CHROMIUM;
  if (explicit) return executable(explicit) ? explicit : undefined;
  const dirs = [...(env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin", "/snap/bin"];
  for (const name of NAMES) for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  return undefined;
}

/** What to tell someone whose machine has no Chromium. */
export function missingChromiumMessage(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GRADC_CHROMIUM) return `GRADC_CHROMIUM=${env.GRADC_CHROMIUM} is not an executable file.`;
  return [
    "The browser demo test needs a Chromium executable and found none (looked for " + NAMES.join(", ") + " on PATH).",
    "Install your distribution's package, e.g. on Debian or Ubuntu: sudo apt-get update && sudo apt-get install -y chromium",
    "or point GRADC_CHROMIUM at an installed Chrome or Chromium: GRADC_CHROMIUM=/path/to/chrome npm test",
  ].join("\n");
}
