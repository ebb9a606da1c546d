/**
 * `export subscriptions`: CSV of the default view, of every property, or of
 * every property with associations (ids and names joined by `;`). Column
 * headers come in the chosen language; values are never translated.
 */
import { type CalendarDate, formatFrequency, formatMajorAmount } from "../domain/index.ts"
import { type Language, lineAmounts, nextVersionAfter, versionInForce } from "../billing/index.ts"
import { formatCsv, spreadsheetSafe } from "./csv.ts"
import type { Sql } from "../sql/index.ts"

export { languages as headerLanguages } from "../billing/index.ts"
export type HeaderLanguage = Language
export type ExportProperties = "view" | "all" | "all-with-associations"

const headers: Record<string, Record<HeaderLanguage, string>> = {
  id: { en: "Subscription ID", nb: "Abonnements-ID", nl: "Abonnements-ID", fr: "ID de l'abonnement", sv: "Prenumerations-ID" },
  name: { en: "Name", nb: "Navn", nl: "Naam", fr: "Nom", sv: "Namn" },
  contact: { en: "Contact email", nb: "Kontaktens e-post", nl: "E-mail contactpersoon", fr: "E-mail du contact", sv: "Kontaktens e-post" },
  status: { en: "Status", nb: "Status", nl: "Status", fr: "Statut", sv: "Status" },
  frequency: { en: "Billing frequency", nb: "Faktureringsfrekvens", nl: "Factureringsfrequentie", fr: "Fréquence de facturation", sv: "Faktureringsfrekvens" },
  next_billing_date: { en: "Next billing date", nb: "Neste faktureringsdato", nl: "Volgende factuurdatum", fr: "Prochaine date de facturation", sv: "Nästa faktureringsdatum" },
  amount: { en: "Amount per payment", nb: "Beløp per betaling", nl: "Bedrag per betaling", fr: "Montant par paiement", sv: "Belopp per betalning" },
  currency: { en: "Currency", nb: "Valuta", nl: "Valuta", fr: "Devise", sv: "Valuta" },
  terms: { en: "Billing terms", nb: "Faktureringsvilkår", nl: "Factureringsvoorwaarden", fr: "Conditions de facturation", sv: "Faktureringsvillkor" },
  start_date: { en: "Start date", nb: "Startdato", nl: "Startdatum", fr: "Date de début", sv: "Startdatum" },
  end_date: { en: "End date", nb: "Sluttdato", nl: "Einddatum", fr: "Date de fin", sv: "Slutdatum" },
  payments_made: { en: "Payments made", nb: "Betalinger utført", nl: "Betalingen gedaan", fr: "Paiements effectués", sv: "Genomförda betalningar" },
  collection_method: { en: "Payment collection", nb: "Betalingsinnkreving", nl: "Betalingsinning", fr: "Mode d'encaissement", sv: "Betalningsinsamling" },
  payment_terms: { en: "Payment terms", nb: "Betalingsbetingelser", nl: "Betalingsvoorwaarden", fr: "Conditions de paiement", sv: "Betalningsvillkor" },
  payment_method: { en: "Payment method", nb: "Betalingsmetode", nl: "Betaalmethode", fr: "Moyen de paiement", sv: "Betalningsmetod" },
  reminders: { en: "Payment reminders", nb: "Betalingspåminnelser", nl: "Betalingsherinneringen", fr: "Rappels de paiement", sv: "Betalningspåminnelser" },
  owner: { en: "Owner", nb: "Eier", nl: "Eigenaar", fr: "Propriétaire", sv: "Ägare" },
  language: { en: "Invoice language", nb: "Fakturaspråk", nl: "Factuurtaal", fr: "Langue de la facture", sv: "Fakturaspråk" },
  locale: { en: "Invoice locale", nb: "Fakturaformat", nl: "Factuurlandinstelling", fr: "Paramètres régionaux de la facture", sv: "Fakturans språkinställning" },
  created_on: { en: "Created on", nb: "Opprettet", nl: "Aangemaakt op", fr: "Créé le", sv: "Skapad" },
  canceled_on: { en: "Canceled on", nb: "Kansellert", nl: "Geannuleerd op", fr: "Annulé le", sv: "Avslutad" },
  cancel_at: { en: "Cancels on", nb: "Kanselleres", nl: "Wordt geannuleerd op", fr: "Annulation prévue le", sv: "Avslutas" },
  resume_on: { en: "Resumes on", nb: "Gjenopptas", nl: "Wordt hervat op", fr: "Reprise le", sv: "Återupptas" },
  contact_ids: { en: "Associated contact IDs", nb: "Tilknyttede kontakt-ID-er", nl: "Gekoppelde contact-ID's", fr: "ID des contacts associés", sv: "Associerade kontakt-ID:n" },
  contact_names: { en: "Associated contacts", nb: "Tilknyttede kontakter", nl: "Gekoppelde contactpersonen", fr: "Contacts associés", sv: "Associerade kontakter" },
  company_ids: { en: "Associated company IDs", nb: "Tilknyttede firma-ID-er", nl: "Gekoppelde bedrijfs-ID's", fr: "ID des entreprises associées", sv: "Associerade företags-ID:n" },
  company_names: { en: "Associated companies", nb: "Tilknyttede firmaer", nl: "Gekoppelde bedrijven", fr: "Entreprises associées", sv: "Associerade företag" }
}

const viewColumns = ["id", "name", "contact", "status", "frequency", "next_billing_date", "amount", "currency"]
const allColumns = [...viewColumns, "terms", "start_date", "end_date", "payments_made", "collection_method", "payment_terms", "payment_method", "reminders", "owner", "language", "locale", "created_on", "canceled_on", "cancel_at", "resume_on"]
const associationColumns = ["contact_ids", "contact_names", "company_ids", "company_names"]

export const exportSubscriptions = async (sql: Sql, properties: ExportProperties, language: HeaderLanguage, today: CalendarDate): Promise<string> => {
  const subs = await sql<Array<Record<string, any>>>`
    select s.*, coalesce(s.payment_method, c.payment_method) as payment_method, c.email, c.name as contact_name, b.id as billing_id, b.name as billing_name, b.email as billing_email,
           co.id as company_id_, co.name as company_name
    from subscriptions s join contacts c on c.id = s.contact_id
    left join contacts b on b.id = s.billing_contact_id
    left join companies co on co.id = s.company_id
    where s.deleted_on is null
    order by s.id`
  // The amount billed today, as `subscriptions show` gives it: the items in force today (else, before the start,
  // the first ones), never a change that waits for the next billing date (the highest version).
  const versions = await sql<Array<{ subscription_id: number; version: number; effective_from: CalendarDate }>>`
    select subscription_id, version, effective_from from item_versions`
  const versionsOf = Map.groupBy(versions.map((v) => ({ ...v, effectiveFrom: v.effective_from })), (v) => v.subscription_id)
  const shown = new Map<number, number>()
  for (const [id, vs] of versionsOf) {
    const v = versionInForce(vs, today) ?? nextVersionAfter(vs, today)
    if (v !== undefined) shown.set(id, v.version)
  }
  const lines = await sql<Array<{ subscription_id: number; version: number; unit_price: number; quantity: number; discount_ppm: number | null; discount_amount: number | null; tax_rate_ppm: number | null; one_time: boolean }>>`
    select l.subscription_id, l.version, l.unit_price, l.quantity, l.discount_ppm, l.discount_amount, l.tax_rate_ppm, l.one_time
    from line_items l`
  const amount = new Map<number, number>()
  for (const l of lines) {
    if (l.one_time || shown.get(l.subscription_id) !== l.version) continue
    const a = lineAmounts({
      unitPrice: l.unit_price as never, quantity: l.quantity, ...(l.tax_rate_ppm === null ? {} : { taxRate: l.tax_rate_ppm }),
      ...(l.discount_ppm !== null ? { discount: { _tag: "Percent" as const, ppm: l.discount_ppm } } : l.discount_amount !== null ? { discount: { _tag: "Amount" as const, amount: l.discount_amount as never } } : {})
    })
    amount.set(l.subscription_id, (amount.get(l.subscription_id) ?? 0) + a.total)
  }
  const columns = properties === "view" ? viewColumns : properties === "all" ? allColumns : [...allColumns, ...associationColumns]
  const value = (s: Record<string, any>, c: string): string => {
    switch (c) {
      case "contact":
        return s["email"]
      case "frequency":
        return formatFrequency({ unit: s["frequency_unit"], count: s["frequency_count"] })
      case "amount":
        return formatMajorAmount(amount.get(s["id"]) ?? 0, s["currency"])
      case "terms":
        return s["terms_payments"] === null ? "auto-renew" : `fixed:${s["terms_payments"]}`
      case "language":
        return s["invoice_language"] ?? ""
      case "locale":
        return s["invoice_locale"] ?? ""
      case "contact_ids":
        return [s["contact_id"], s["billing_id"]].filter((x) => x !== null && x !== undefined).join(";")
      case "contact_names":
        return [s["contact_name"] ?? s["email"], s["billing_id"] === null ? null : s["billing_name"] ?? s["billing_email"]].filter((x) => x !== null && x !== undefined).join(";")
      case "company_ids":
        return s["company_id_"] === null ? "" : String(s["company_id_"])
      case "company_names":
        return s["company_name"] ?? ""
      default: {
        const v = s[c]
        return v === null || v === undefined ? "" : String(v)
      }
    }
  }
  // Names and properties come from buyers and imports: a cell like =HYPERLINK(…) must not run in the reader's spreadsheet.
  return formatCsv([columns.map((c) => headers[c]![language]), ...subs.map((s) => columns.map((c) => spreadsheetSafe(value(s, c))))])
}
