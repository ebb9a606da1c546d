/**
 * Renders HTML in headless Chromium (Debian's package, driven by
 * playwright-core) and returns a PNG and the console errors. Fails loudly
 * when Chromium cannot start: the browser checks never skip.
 */
import { chromium } from "playwright-core"
import type { Browser } from "playwright-core"
import { existsSync } from "node:fs"

const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p))

export const launchBrowser = async (): Promise<Browser> => {
  if (executablePath === undefined) throw new Error("Chromium is not installed (apt-get install chromium); .ci/run installs it")
  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  })
}

export interface Rendered {
  readonly png: Buffer
  readonly errors: Array<string>
  readonly text: string
}

export const renderHtml = async (browser: Browser, html: string, width = 900): Promise<Rendered> => {
  const page = await browser.newPage({ viewport: { width, height: 800 } })
  const errors: Array<string> = []
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()) })
  page.on("pageerror", (e) => errors.push(e.message))
  // No network: any request for an outside resource is an error too.
  await page.route("**/*", (route) => route.request().url().startsWith("data:") ? route.continue() : route.abort())
  await page.setContent(html, { waitUntil: "load" })
  const png = await page.screenshot({ fullPage: true })
  const text = await page.innerText("body")
  await page.close()
  return { png, errors, text }
}
