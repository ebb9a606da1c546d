/**
 * Runs once before the test files: unpacks the npm-shipped Chromium
 * (@sparticuz/chromium) into the temp directory, so that browser tests running
 * in parallel workers do not unpack it at the same time.
 */
import { chromiumExecutable } from "./browser.ts"

export default async function setup() {
  await chromiumExecutable()
}
