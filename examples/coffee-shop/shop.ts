/**
 * The coffee shop of the reference: its products and account settings.
 */
export const products = [
  { name: "Just one more cup – 1 kg", sku: "COFFEE-1KG", price: "25.00", currency: "USD", frequency: "monthly" },
  { name: "Coffee is my fuel – 500 g", sku: "COFFEE-500G", price: "18.00", currency: "USD", frequency: "biweekly" },
  { name: "Coffee casual – 250 g", sku: "COFFEE-250G", price: "12.50", currency: "USD", frequency: "monthly" },
  { name: "Grinder rental setup", sku: "GRINDER-SETUP", price: "15.00", currency: "USD", frequency: "one-time" }
] as const

export const settings: ReadonlyArray<readonly [string, string]> = [
  ["timezone", "America/New_York"],
  ["language", "en"],
  ["locale", "en-US"],
  ["currency", "USD"],
  ["seller-name", "Bean There Coffee Co."],
  ["seller-address", "12 Roast Street;Brooklyn, NY 11201;United States"],
  ["seller-tax-id", "US-EIN 12-3456789"],
  ["seller-email", "hello@beanthere.example"],
  ["admin-email", "finance@beanthere.example"],
  ["reminder-days", "14"],
  ["retry-days", "1,3,5,7"],
  ["after-retries", "cancel"],
  ["auto-email-invoices", "true"],
  ["invoice-prefix", "BT-"]
]
