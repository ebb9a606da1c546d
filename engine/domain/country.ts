/** A two-letter country code (ISO 3166-1 alpha-2, any case): for addresses and the seller's country. */
export const isCountryCode = (value: string): boolean => /^[A-Za-z]{2}$/.test(value)
