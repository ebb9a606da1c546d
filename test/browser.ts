/**
 * Renders HTML in headless Chromium (driven by playwright-core) and returns a
 * PNG and the console errors. The Chromium comes from npm: `@sparticuz/chromium`
 * ships a brotli-packed binary inside the package, unpacked once into the
 * temp directory, so the browser tests need nothing but `npm install`.
 * `CHROMIUM_PATH` points at another Chromium instead. Fails loudly when
 * Chromium cannot start: the browser checks never skip.
 */
import type { Browser } from "playwright-core"
import { chromiumExecutable, launchChromium } from "../templates/pdf.ts"

export { chromiumExecutable }

export const launchBrowser = (): Promise<Browser> => launchChromium()

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
