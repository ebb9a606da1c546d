/**
 * "Did you mean": the name a user most likely meant when the one typed is
 * none (a rule's property, a status, a currency, a product's SKU).
 */

/** Levenshtein distance, for "did you mean". */
export const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]!
}

/** The candidate nearest to `name` ignoring case (one spelt alike but for case first), if it is near enough to be a slip: at most 2 edits, or a third of the name. */
export const closestName = (name: string, candidates: Iterable<string>): string | undefined => {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase())
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}
