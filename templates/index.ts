/**
 * The templates room's door: emails and invoices rendered from Handlebars
 * templates in five languages, formatted for any locale, and checked.
 */
export * from "./check.ts"
export * from "./format.ts"
export * from "./render.ts"
export * from "./schemas.ts"
