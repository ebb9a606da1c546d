/**
 * Invoices as PDF: the invoice's HTML printed by headless Chromium, driven by
 * playwright-core. The Chromium comes from npm (`@sparticuz/chromium` ships a
 * packed binary inside its package, unpacked once into the temp directory),
 * so a PDF needs nothing but `npm install`; `CHROMIUM_PATH` names another.
 * No network: the document may load nothing from outside (it inlines all).
 */
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

export const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-zygote"]

export const launchChromium = async () => {
  const { chromium } = await import("playwright-core")
  return chromium.launch({ executablePath: await chromiumExecutable(), args: chromiumArgs })
}

/** Paper by locale: Letter in the United States and Canada, A4 elsewhere. */
export const paperFor = (locale: string): "Letter" | "A4" => (/-(US|CA)\b/i.test(locale) ? "Letter" : "A4")

/** A browser kept for many PDFs (the engine attaching PDFs to a batch of emails); close it when done. */
export interface PdfPrinter {
  readonly print: (html: string, locale: string) => Promise<Buffer>
  readonly close: () => Promise<void>
}

export const openPdfPrinter = async (): Promise<PdfPrinter> => {
  const browser = await launchChromium()
  return {
    print: async (html, locale) => {
      const page = await browser.newPage()
      try {
        await page.route("**/*", (route) => (route.request().url().startsWith("data:") ? route.continue() : route.abort()))
        await page.setContent(html, { waitUntil: "load" })
        return await page.pdf({ format: paperFor(locale), printBackground: true, margin: { top: "16mm", bottom: "16mm", left: "16mm", right: "16mm" } })
      } finally {
        await page.close()
      }
    },
    close: () => browser.close()
  }
}

/** One invoice's HTML as a PDF. */
export const htmlToPdf = async (html: string, locale: string): Promise<Buffer> => {
  const printer = await openPdfPrinter()
  try {
    return await printer.print(html, locale)
  } finally {
    await printer.close()
  }
}
