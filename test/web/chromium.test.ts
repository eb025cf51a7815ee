// How the browser test finds its Chromium, and what it says when there is none.
import { describe, expect, it } from "vitest";
import { findChromium, missingChromiumMessage } from "./chromium.js";

describe("findChromium", () => {
  it("uses GRADC_CHROMIUM when it names an executable, and nothing else", () => {
    expect(findChromium({ GRADC_CHROMIUM: process.execPath, PATH: "" })).toBe(process.execPath);
    expect(findChromium({ GRADC_CHROMIUM: "/no/such/chromium", PATH: "" })).toBeUndefined();
  });

  it("tells a developer without Chromium how to install it or point at one", () => {
    const message = missingChromiumMessage({});
    expect(message).toContain("apt-get install -y chromium");
    expect(message).toContain("GRADC_CHROMIUM=");
    expect(missingChromiumMessage({ GRADC_CHROMIUM: "/no/such/chromium" })).toContain("/no/such/chromium is not an executable");
  });
});
