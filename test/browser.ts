/**
 * Renders HTML in headless Chromium (driven by playwright-core) and returns a
 * PNG and the console errors. The Chromium comes from npm: `@sparticuz/chromium`
 * ships a brotli-packed binary inside the package, unpacked once into the
 * temp directory, so the browser tests need nothing but `npm install`.
 * `CHROMIUM_PATH` points at another Chromium instead. Fails loudly when
 * Chromium cannot start: the browser checks never skip.
 */
import { chromium } from "playwright-core"
import type { Browser } from "playwright-core"
import { existsSync } from "node:fs"

/** The Chromium to run: `CHROMIUM_PATH`, else the one inside @sparticuz/chromium (unpacked on first use). */
export const chromiumExecutable = async (): Promise<string> => {
  const chosen = process.env["CHROMIUM_PATH"]
  if (chosen !== undefined && chosen !== "") {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH: ${chosen} does not exist`)
    return chosen
  }
  const packaged = (await import("@sparticuz/chromium")).default
  return packaged.executablePath()
}

export const launchBrowser = async (): Promise<Browser> =>
  chromium.launch({
    executablePath: await chromiumExecutable(),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-zygote"]
  })

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
