/**
 * The countries of addresses and of the seller: ISO 3166-1 alpha-2 codes, any case. The officially
 * assigned codes (249) and XK (Kosovo, user-assigned, in use by the EU and banks); not the reserved or
 * withdrawn ones (UK, EU, YU, …) nor private-use ones (QQ, XX, ZZ).
 */
const codes = new Set((
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI " +
  "CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR " +
  "GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU " +
  "LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL " +
  "PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO " +
  "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW").split(" "))

/** A two-letter country code (ISO 3166-1 alpha-2, any case): for addresses and the seller's country. */
export const isCountryCode = (value: string): boolean => codes.has(value.toUpperCase())

/**
 * What is wrong with a country code, for a message after the flag or field; undefined when it is one.
 * `naming: false` leaves the value out, for a message that names it itself (a setting's refusal).
 */
export const countryCodeProblem = (value: string, options: { readonly naming: boolean } = { naming: true }): string | undefined =>
  isCountryCode(value) ? undefined
    : `expected a two-letter country code (ISO 3166-1) such as NO${options.naming ? `, got "${value}"` : ""}${value.toUpperCase() === "UK" ? " (the United Kingdom is GB)" : ""}`
