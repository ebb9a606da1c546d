/**
 * The invoices' use cases as a service: the list, one invoice, a payment
 * received outside the gateway, voiding and writing off, and the documents
 * (an invoice rendered, an email previewed). Each door (the CLI, the HTTP
 * API) calls these; refusals fail as typed errors (engine/domain/errors.ts)
 * the doors word. Implemented over the room's Promise functions through
 * `runSql`, so a door's transaction (`CurrentTransaction`) and journal
 * source (`CurrentJournalSource`) reach them.
 */
import { Context, Effect, Layer } from "effect"
import type { EmailTemplate, RenderedEmail } from "../../templates/index.ts"
import { renderEmail, renderInvoice } from "../../templates/index.ts"
import type { InvoiceError, InvoiceId, SubscriptionId } from "../domain/index.ts"
import { InvoiceId as InvoiceIdOf, invoiceErrorOf } from "../domain/index.ts"
import type { BadInput, DatabaseError, ListQuery } from "../sql/index.ts"
import { Database, runUseCaseOn } from "../sql/index.ts"
import { loadSettings } from "../account/index.ts"
import { shownLocale } from "../billing/index.ts"
import type { EngineContext } from "../account/index.ts"
import { loadEmailPreview, loadInvoiceDocument } from "./documentData.ts"
import type { ClosedInvoice, InvoiceClosing } from "./invoiceClosing.ts"
import { closeInvoice } from "./invoiceClosing.ts"
import type { InvoiceSummaryRow } from "./invoiceQueries.ts"
import { findInvoice, invoiceIdByNumber, listInvoices, payInvoiceInMajorUnits } from "./invoiceQueries.ts"

export type InvoiceFailure = InvoiceError | BadInput | DatabaseError

/** An invoice with its lines and payment attempts (`invoices show`). */
export type InvoiceFound = Awaited<ReturnType<typeof findInvoice>>
/** What recording a payment did: paid in full, or how much is still due. */
export type PaymentRecorded = Awaited<ReturnType<typeof payInvoiceInMajorUnits>>

/** How a document is rendered: language and locale (default: the subscription's, the contact's, the account's) and a templates directory. */
export interface DocumentOptions {
  readonly language?: string | undefined
  readonly locale?: string | undefined
  readonly templatesDir?: string | undefined
  /** The day the document is made (the command's business day): its pay link lives at least 90 days from it. */
  readonly issuedOn?: string | undefined
}

export class Invoices extends Context.Service<Invoices, {
  /** The invoices, by subscription or status (a list query each door pages). */
  readonly list: (filter: { readonly subscriptionId?: number | undefined; readonly status?: string | undefined }) => ListQuery<InvoiceSummaryRow>
  readonly show: (id: InvoiceId) => Effect.Effect<InvoiceFound, InvoiceFailure>
  /** The id of the invoice with this number (INV-000001), if there is one. */
  readonly idOfNumber: (number: string) => Effect.Effect<InvoiceId | undefined, InvoiceFailure>
  /** Records a payment received outside the gateway; `amount` in major units (default: all that is due). */
  readonly pay: (ctx: EngineContext, id: InvoiceId, amount: string | undefined) => Effect.Effect<PaymentRecorded, InvoiceFailure>
  readonly close: (ctx: EngineContext, id: InvoiceId, how: InvoiceClosing) => Effect.Effect<ClosedInvoice, InvoiceFailure>
  /** An invoice rendered as HTML, and the locale it was rendered in (a PDF is printed in it). */
  readonly renderDocument: (id: InvoiceId, options: DocumentOptions) => Effect.Effect<{ readonly html: string; readonly locale: string }, InvoiceFailure>
  /** An email for a subscription, as it would be sent on `createdOn`. */
  readonly previewEmail: (subscriptionId: SubscriptionId, template: EmailTemplate, createdOn: string, options: DocumentOptions) => Effect.Effect<RenderedEmail, InvoiceFailure>
}>()("billcycle/engine/invoicing/Invoices") {
  static readonly layer = Layer.effect(
    Invoices,
    Effect.gen(function*() {
      const db = yield* Database
      const use = <A>(work: Parameters<typeof runUseCaseOn<A, InvoiceError>>[1]) =>
        runUseCaseOn(db, work, invoiceErrorOf)
      return Invoices.of({
        list: (filter) => (sql) => listInvoices(sql, filter),
        show: (id) => use((sql) => findInvoice(sql, id)),
        idOfNumber: (number) => use(async (sql) => {
          const id = await invoiceIdByNumber(sql, number)
          return id === undefined ? undefined : InvoiceIdOf.make(id)
        }),
        pay: (ctx, id, amount) => use((sql) => payInvoiceInMajorUnits(sql, ctx, id, amount)),
        close: (ctx, id, how) => use((sql) => closeInvoice(sql, ctx, id, how)),
        renderDocument: (id, options) =>
          use(async (sql) => {
            const settings = await loadSettings(sql)
            const doc = await loadInvoiceDocument(sql, id, settings, options.issuedOn)
            const locale = shownLocale(options, doc.locale)
            const html = renderInvoice(doc.data, {
              language: options.language ?? doc.language,
              locale,
              templatesDir: options.templatesDir ?? (settings.templatesDir || undefined)
            })
            return { html, locale }
          }),
        previewEmail: (subscriptionId, template, createdOn, options) =>
          use(async (sql) => {
            const settings = await loadSettings(sql)
            const preview = await loadEmailPreview(sql, subscriptionId, template, createdOn, settings)
            return renderEmail(template, preview.data, {
              language: options.language ?? preview.language,
              locale: shownLocale(options, preview.locale),
              templatesDir: options.templatesDir ?? (settings.templatesDir || undefined)
            })
          })
      })
    })
  )
}
