/**
 * The buyer's pages over real HTTP, on both databases: `/p/TOKEN` updates the
 * payment method and pays the unpaid invoice at once; `/i/TOKEN` pays an open
 * invoice. Tokens are signed, single-purpose and expiring; every POST needs
 * its CSRF token; whatever a seller or buyer typed comes back escaped; one
 * charge however often the form is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadSettings, makeEngineContext, saveSetting } from "../../../engine/account/index.ts"
import type { CalendarDate } from "../../../engine/domain/index.ts"
import { loadEmailDataBatch, loadInvoiceDocument, payInvoice } from "../../../engine/invoicing/index.ts"
import { catalog, renderEmail } from "../../../templates/index.ts"
import { compileRules, parseRules } from "../../../dsl/index.ts"
import { enrollFromJournal } from "../../../engine/enrollments/index.ts"
import { backend } from "../../storeHarness.ts"
import type { ApiUnderTest } from "../api/apiHarness.ts"
import { startApi } from "../api/apiHarness.ts"
import { createSubscription, ledgerOf, subscriptionRow, tickAt } from "../runtime/engineHarness.ts"
import { chargesOf, getPage, openForm, postForm, submitPaymentMethod, tokenFor } from "./buyerPagesHarness.ts"

let api: ApiUnderTest
beforeAll(async () => {
  api = await startApi("2026-04-02")
})
afterAll(async () => {
  await api?.close()
})

/** A monthly subscription whose first charge (2026-04-01) was declined: unpaid, its invoice open. */
const unpaidSubscription = async (extra: { name?: string; language?: string } = {}) => {
  const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", paymentMethod: "pm_declined", items: [{ price: 2500 }] })
  if (extra.name !== undefined) await api.db.db.sql`update subscriptions set name = ${extra.name} where id = ${id}`
  if (extra.language !== undefined) await api.db.db.sql`update subscriptions set invoice_language = ${extra.language}, invoice_locale = ${extra.language === "nb" ? "nb-NO" : "fr-FR"} where id = ${id}`
  await tickAt(api.db, "2026-04-01")
  expect((await subscriptionRow(api.db.db.sql, id))["status"]).toBe("unpaid")
  return { id, path: `/p/${await tokenFor(api, "update-payment", id)}` }
}

/** A subscription billed by invoice (net 15): its first invoice open. */
const invoicedSubscription = async () => {
  const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", collection: "invoice", items: [{ price: 4000, qty: 2 }], paymentMethod: null })
  await tickAt(api.db, "2026-04-01")
  const [invoice] = await api.db.db.sql<Array<{ id: number; number: string; status: string }>>`select id, number, status from invoices where subscription_id = ${id}`
  expect(invoice!.status).toBe("open")
  return { id, invoice: invoice!, path: `/i/${await tokenFor(api, "pay-invoice", invoice!.id)}` }
}

describe(`the update-payment-method page /p/TOKEN (${backend})`, () => {
  it("shows the unpaid invoice and a labelled form in the subscription's language and locale", async () => {
    const { path } = await unpaidSubscription({ language: "nb" })
    const page = await getPage(api, path)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.html).toContain('<html lang="nb">')
    expect(page.html).toContain("Oppdater betalingsmetoden")
    // USD in nb-NO: "USD 25,00" (the locale's decimal comma).
    expect(page.html).toMatch(/25,00/)
    expect(page.html).toContain('<label for="payment_method">')
    expect(page.headers.get("set-cookie")).toMatch(/^billcycle_csrf=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Strict$/)
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
    expect(page.headers.get("referrer-policy")).toBe("no-referrer")
  })

  it("a good card pays the unpaid invoice at once through the gateway, and the subscription is active again", async () => {
    const { id, path } = await unpaidSubscription()
    const r = await submitPaymentMethod(api, path, "pm_ok")
    expect(r.status).toBe(303)
    expect(r.headers.get("location")).toBe(`${path}?done=paid`)
    const sub = await subscriptionRow(api.db.db.sql, id)
    expect(sub["status"]).toBe("active")
    expect(sub["payment_method"]).toBe("pm_ok")
    expect(await chargesOf(api, id)).toEqual([
      { status: "failed", initiated_by: "engine", payment_method: "pm_declined", amount: 2500 },
      { status: "succeeded", initiated_by: "buyer", payment_method: "pm_ok", amount: 2500 }
    ])
    const [invoice] = await api.db.db.sql<Array<{ status: string }>>`select status from invoices where subscription_id = ${id}`
    expect(invoice!.status).toBe("paid")
    const events = await api.db.db.sql<Array<{ type: string; source: string }>>`select type, source from events where subscription_id = ${id} and type in ('subscription.property_changed', 'payment.succeeded') order by id`
    expect(events).toEqual([{ type: "subscription.property_changed", source: "buyer" }, { type: "payment.succeeded", source: "engine" }])
    const after = await getPage(api, `${path}?done=paid`)
    expect(after.html).toContain("Thank you: the payment went through.")
  })

  it("a declined card re-renders the page with the error; no retry is used, no email sent; then a good card pays", async () => {
    const { id, path } = await unpaidSubscription()
    const before = await subscriptionRow(api.db.db.sql, id)
    const mails = async () => (await api.db.db.sql`select 1 from outbox where subscription_id = ${id} and template = 'payment_failed'`).length
    const mailsBefore = await mails()
    const declined = await submitPaymentMethod(api, path, "pm_declined")
    expect(declined.status).toBe(422)
    expect(declined.html).toContain('role="alert"')
    expect(declined.html).toContain("The payment was declined")
    const sub = await subscriptionRow(api.db.db.sql, id)
    expect([sub["status"], sub["retry_count"], sub["next_retry_on"]]).toEqual(["unpaid", before["retry_count"], before["next_retry_on"]])
    expect(await mails()).toBe(mailsBefore)
    const paid = await submitPaymentMethod(api, path, "pm_ok")
    expect(paid.status).toBe(303)
    expect((await subscriptionRow(api.db.db.sql, id))["status"]).toBe("active")
    expect((await ledgerOf(api.db.db.sql, id)).filter((l) => l.outcome === "succeeded")).toHaveLength(1)
  })

  it("a double submit, a reload and a second tab make one charge", async () => {
    const { id, path } = await unpaidSubscription()
    const form = await openForm(api, path)
    const tab2 = await openForm(api, path)
    const answers = await Promise.all([
      postForm(api, path, { csrf: form.csrf, payment_method: "pm_ok" }, form.cookie),
      postForm(api, path, { csrf: form.csrf, payment_method: "pm_ok" }, form.cookie),
      postForm(api, path, { csrf: tab2.csrf, payment_method: "pm_ok" }, tab2.cookie)
    ])
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303])
    const reload = await postForm(api, path, { csrf: form.csrf, payment_method: "pm_ok" }, form.cookie)
    expect(reload.status).toBe(303)
    expect((await ledgerOf(api.db.db.sql, id)).filter((l) => l.outcome === "succeeded")).toHaveLength(1)
    expect((await chargesOf(api, id)).filter((c) => c.initiated_by === "buyer")).toHaveLength(1)
  })

  it("a lost gateway reply (pm_timeout) shows processing; the engine settles it with the same key", async () => {
    const { id, path } = await unpaidSubscription()
    const r = await submitPaymentMethod(api, path, "pm_timeout")
    expect(r.status).toBe(303)
    const page = await getPage(api, path)
    expect(page.html).toContain("Your payment is being processed")
    expect(page.html).not.toContain("<form")
    expect((await chargesOf(api, id)).at(-1)!.status).toBe("unknown")
    // Asked again once its backoff has passed, in business time: the server's clock, not the real one (found by an audit:
    // a page paid on a test clock behind the real date was never settled and its invoice went overdue).
    const [attempt] = await api.db.db.sql<Array<{ check_after: Date }>>`select a.check_after from payment_attempts a join invoices i on i.id = a.invoice_id where i.subscription_id = ${id} and a.status = 'unknown'`
    expect(attempt!.check_after.toISOString().slice(0, 10)).toBe("2026-04-02")
    await tickAt(api.db, "2026-04-03")
    expect((await chargesOf(api, id)).at(-1)!.status).toBe("succeeded")
    expect((await subscriptionRow(api.db.db.sql, id))["status"]).toBe("active")
    expect((await ledgerOf(api.db.db.sql, id)).filter((l) => l.outcome === "succeeded")).toHaveLength(1)
  })

  it("with nothing unpaid, the new card is only saved", async () => {
    const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", paymentMethod: "pm_ok" })
    await tickAt(api.db, "2026-04-01")
    const path = `/p/${await tokenFor(api, "update-payment", id)}`
    const r = await submitPaymentMethod(api, path, "pm_fail_once")
    expect(r.headers.get("location")).toBe(`${path}?done=saved`)
    expect((await subscriptionRow(api.db.db.sql, id))["payment_method"]).toBe("pm_fail_once")
    expect((await getPage(api, `${path}?done=saved`)).html).toContain("Your payment method is saved.")
  })
})

describe(`a rule on the payment method the buyer changed on /p/TOKEN (${backend})`, () => {
  it("a subscription charged the contact's card, given a new one on the page: when subscription.payment_method changes from the contact's to the new one enrolls it, once", async () => {
    const rules = compileRules(parseRules(`rule card_swap
  when subscription.payment_method changes from "pm_ok" to "pm_fail_once"
then
  add contact to list "swapped"
end`).file.rules)
    const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", paymentMethod: "pm_ok" })
    expect((await subscriptionRow(api.db.db.sql, id))["payment_method"]).toBe(null)
    await tickAt(api.db, "2026-04-01")
    const path = `/p/${await tokenFor(api, "update-payment", id)}`
    expect((await submitPaymentMethod(api, path, "pm_fail_once")).status).toBe(303)
    const ctx = makeEngineContext(await loadSettings(api.db.db.sql), "2026-04-02" as CalendarDate, { owner: "test", failpoint: () => {} })
    while ((await enrollFromJournal(api.db.db.sql, ctx, rules, 1000)).events > 0) { /* the whole journal */ }
    const enrolled = await api.db.db.sql<Array<{ rule_id: string; type: string }>>`
      select e.rule_id, ev.type from enrollments e join events ev on ev.id = e.trigger_event_id where e.subscription_id = ${id}`
    expect(enrolled).toEqual([{ rule_id: "card_swap", type: "subscription.property_changed" }])
  })
})

describe(`the pay-invoice page /i/TOKEN (${backend})`, () => {
  it("shows the invoice's lines and pays it once, however often it is sent", async () => {
    const { id, invoice, path } = await invoicedSubscription()
    const page = await getPage(api, path)
    expect(page.status).toBe(200)
    expect(page.html).toContain(`Invoice ${invoice.number}`)
    expect(page.html).toContain("$80.00")
    const form = await openForm(api, path)
    const answers = await Promise.all([1, 2].map(() => postForm(api, path, { csrf: form.csrf, payment_method: "pm_ok" }, form.cookie)))
    expect(answers.map((a) => a.status)).toEqual([303, 303])
    expect((await ledgerOf(api.db.db.sql, id)).map((l) => [l.outcome, l.amount])).toEqual([["succeeded", 8000]])
    const [after] = await api.db.db.sql<Array<{ status: string }>>`select status from invoices where id = ${invoice.id}`
    expect(after!.status).toBe("paid")
    const paidPage = await getPage(api, path)
    expect(paidPage.html).toContain("This invoice is paid")
    expect(paidPage.html).not.toContain("<form")
  })

  it("adds up as the invoice does: subtotal, tax, total, what was paid, what is due (found by an audit: only lines and the total)", async () => {
    const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", collection: "invoice", items: [{ price: 4000, qty: 2, taxPpm: 250_000 }], paymentMethod: null })
    await tickAt(api.db, "2026-04-01")
    const [invoice] = await api.db.db.sql<Array<{ id: number }>>`select id from invoices where subscription_id = ${id}`
    await payInvoice(api.db.db.sql, makeEngineContext(await loadSettings(api.db.db.sql), "2026-04-01" as CalendarDate, { failpoint: () => {} }), invoice!.id, 3000)
    const page = await getPage(api, `/i/${await tokenFor(api, "pay-invoice", invoice!.id)}`)
    const rows = [...page.html.matchAll(/<tr><th scope="row" colspan="2">([^<]+)<\/th><td class="num">([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2]])
    expect(rows).toEqual([["Subtotal", "$80.00"], ["Tax", "$20.00"], ["Total", "$100.00"], ["Paid", "-$30.00"], ["Amount due", "$70.00"]])
    expect(page.html).toContain("Pay $70.00")
  })

  it("a declined card leaves the invoice open and the subscription as it was (not unpaid)", async () => {
    const { id, invoice, path } = await invoicedSubscription()
    const r = await submitPaymentMethod(api, path, "pm_declined")
    expect(r.status).toBe(422)
    expect(r.html).toContain("The payment was declined")
    expect((await subscriptionRow(api.db.db.sql, id))["status"]).toBe("active")
    const [after] = await api.db.db.sql<Array<{ status: string }>>`select status from invoices where id = ${invoice.id}`
    expect(after!.status).toBe("open")
    const [event] = await api.db.db.sql<Array<{ data: { initiated_by: string } }>>`select data from events where invoice_id = ${invoice.id} and type = 'payment.failed'`
    expect(event!.data.initiated_by).toBe("buyer")
  })
})

describe(`tokens, CSRF and escaping (${backend})`, () => {
  it("a POST without its CSRF token, or with another page's, is refused (403) and changes nothing", async () => {
    const { id, path } = await unpaidSubscription()
    const other = await unpaidSubscription()
    const noCsrf = await postForm(api, path, { payment_method: "pm_ok" })
    expect(noCsrf.status).toBe(403)
    const form = await openForm(api, path)
    expect((await postForm(api, path, { csrf: form.csrf, payment_method: "pm_ok" })).status).toBe(403)
    const otherForm = await openForm(api, other.path)
    expect((await postForm(api, path, { csrf: otherForm.csrf, payment_method: "pm_ok" }, otherForm.cookie)).status).toBe(403)
    const json = await fetch(api.url + path, { method: "POST", headers: { "content-type": "application/json", cookie: form.cookie }, body: JSON.stringify({ csrf: form.csrf, payment_method: "pm_ok" }) })
    expect(json.status).toBe(403)
    expect((await subscriptionRow(api.db.db.sql, id))["payment_method"]).toBeNull()
    expect((await chargesOf(api, id)).filter((c) => c.initiated_by === "buyer")).toEqual([])
  })

  it("a refused POST (403, 429) of a Norwegian subscription's page is said in Norwegian, as its checkout's is (found by an audit: always English)", async () => {
    const nb = catalog("nb")
    const { path } = await unpaidSubscription({ language: "nb" })
    const refused = await postForm(api, path, { payment_method: "pm_ok" })
    expect(refused.status).toBe(403)
    expect(refused.html).toContain('<html lang="nb">')
    expect(refused.html).toContain(`<h1>${nb["page.forbidden.title"]}</h1>`)
    const id = await createSubscription(api.db.db.sql, { start: "2026-04-01", collection: "invoice", items: [{ price: 4000 }], paymentMethod: null })
    await api.db.db.sql`update subscriptions set invoice_language = 'nb', invoice_locale = 'nb-NO' where id = ${id}`
    await tickAt(api.db, "2026-04-01")
    const [invoice] = await api.db.db.sql<Array<{ id: number }>>`select id from invoices where subscription_id = ${id}`
    const pay = `/i/${await tokenFor(api, "pay-invoice", invoice!.id)}`
    let last = await postForm(api, pay, { payment_method: "pm_ok" })
    expect(last.status).toBe(403)
    expect(last.html).toContain(`<h1>${nb["page.forbidden.title"]}</h1>`)
    for (let i = 0; i < 10; i++) last = await postForm(api, pay, { payment_method: "pm_ok" })
    expect(last.status).toBe(429)
    expect(last.html).toContain('<html lang="nb">')
    expect(last.html).toContain(`<h1>${nb["page.tooMany.title"]}</h1>`)
    // A token that opens nothing keeps the refusal, in the account's language.
    expect((await postForm(api, "/p/not-a-token", { payment_method: "pm_ok" })).status).toBe(403)
  })

  it("a bad token is 404, another page's token 404, an expired one 410; none says why beyond that", async () => {
    const { id } = await unpaidSubscription()
    expect((await getPage(api, "/p/not-a-token")).status).toBe(404)
    const good = await tokenFor(api, "update-payment", id)
    const altered = good.slice(0, 10) + (good[10] === "A" ? "B" : "A") + good.slice(11)
    expect((await getPage(api, `/p/${altered}`)).status).toBe(404)
    expect((await getPage(api, `/i/${good}`)).status).toBe(404)
    const expired = await getPage(api, `/p/${await tokenFor(api, "update-payment", id, "2026-04-01")}`)
    expect(expired.status).toBe(410)
    expect(expired.html).toContain("April 1, 2026")
    expect(expired.html).not.toContain("<form")
    // In the language and formats of what the link was for, as its page would have been (found by an audit: always English).
    const nb = await unpaidSubscription({ language: "nb" })
    const expiredNb = await getPage(api, `/p/${await tokenFor(api, "update-payment", nb.id, "2026-04-01")}`)
    expect(expiredNb.status).toBe(410)
    expect(expiredNb.html).toContain('lang="nb"')
    expect(expiredNb.html).toContain("1. april 2026")
    expect(expiredNb.html).not.toContain("April 1, 2026")
    const lastDay = await getPage(api, `/p/${await tokenFor(api, "update-payment", id, "2026-04-02")}`)
    expect(lastDay.status).toBe(200)
    expect((await postForm(api, `/p/${altered}`, { payment_method: "pm_ok" })).status).toBe(403)
  })

  it("whatever a seller or buyer typed is escaped", async () => {
    const { path } = await unpaidSubscription({ name: `<script>alert("sub")</script>` })
    const page = await getPage(api, path)
    expect(page.html).not.toContain("<script>alert")
    expect(page.html).toContain("&lt;script&gt;alert(&quot;sub&quot;)&lt;/script&gt;")
    const r = await submitPaymentMethod(api, path, `"><script>alert(2)</script>`)
    expect(r.status).toBe(422)
    expect(r.html).toContain("Enter a payment method token such as pm_ok.")
    expect(r.html).not.toContain("<script>alert(2)")
    expect(r.html).toContain("&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;")
    const inv = await invoicedSubscription()
    await api.db.db.sql`update invoice_lines set name = ${"<img src=x onerror=alert(1)>"} where invoice_id = ${inv.invoice.id}`
    const invoicePage = await getPage(api, inv.path)
    expect(invoicePage.html).not.toContain("<img src=x")
    expect(invoicePage.html).toContain("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;")
  })

  it("a failure inside answers a plain 500 page: no stack trace, no SQL, nothing of the server's insides", async () => {
    const { path } = await unpaidSubscription()
    const invoiced = await invoicedSubscription()
    await api.db.db.sql`alter table invoice_lines rename to invoice_lines_away`
    try {
      const page = await getPage(api, path)
      const inv = await getPage(api, invoiced.path)
      expect(inv.status).toBe(500)
      expect(inv.html).toContain("Something went wrong")
      expect(inv.html).not.toMatch(/invoice_lines|at \S+ \(|\.ts:\d+|relation/)
      expect(page.status).toBe(200)
    } finally {
      await api.db.db.sql`alter table invoice_lines_away rename to invoice_lines`
    }
  })

  it("more than 10 POSTs a minute on one link are refused with 429 before any work", async () => {
    const { path } = await unpaidSubscription()
    const statuses: Array<number> = []
    for (let i = 0; i < 11; i++) statuses.push((await postForm(api, path, { payment_method: "pm_ok" })).status)
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(403))
    expect(statuses[10]).toBe(429)
  })
})

describe(`links in emails and invoices: base-url (${backend})`, () => {
  it("unset: the payment-failed email and the invoice carry no link; set: they link to /p/TOKEN and /i/TOKEN, which open", async () => {
    const { id } = await unpaidSubscription()
    const inv = await invoicedSubscription()
    const sql = api.db.db.sql
    const failedMail = async () => {
      const [m] = await sql<Array<any>>`select * from outbox where subscription_id = ${id} and template = 'payment_failed' order by id limit 1`
      return (await loadEmailDataBatch(sql, [m], await loadSettings(sql)))[0]!
    }
    expect((await failedMail()).link).toBe("")
    expect(renderEmail("payment_failed", await failedMail(), { language: "en", locale: "en-US" }).html).not.toContain("<a ")
    expect((await loadInvoiceDocument(sql, inv.invoice.id, await loadSettings(sql))).data.payUrl).toBe("")

    await saveSetting(sql, "base-url", api.url)
    const link = (await failedMail()).link ?? ""
    expect(link).toMatch(new RegExp(`^${api.url}/p/[A-Za-z0-9_-]{38}$`))
    expect((await getPage(api, link.slice(api.url.length))).html).toContain("Update your payment method")
    const payUrl = (await loadInvoiceDocument(sql, inv.invoice.id, await loadSettings(sql))).data.payUrl
    expect(payUrl).toMatch(new RegExp(`^${api.url}/i/[A-Za-z0-9_-]{38}$`))
    expect((await getPage(api, payUrl.slice(api.url.length))).html).toContain(`Invoice ${inv.invoice.number}`)
    await sql`delete from settings where key = 'base-url'`
  })
})
