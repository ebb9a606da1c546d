// Applied by `npm install` / `npm ci` (postinstall): a fix to the `postgres` driver (and, at the end, a faster escape of array elements)
// (3.4.9, the newest) for porsager/postgres #1154 and #1208. A write scheduled with
// setImmediate ran after the connection had closed and set its socket to null, and
// threw an uncaught TypeError ("reading 'write'") that killed the process during a
// database restart. The fix drops that write (the connection is gone; its queries
// are failed by the close handler) and forgets the cleared timer. Idempotent; fails
// loudly when the driver's code is not the one this fix was written for.
import { readFileSync, writeFileSync, existsSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../node_modules/postgres/", import.meta.url))
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const marker = "billcycle patch (porsager/postgres #1154, #1208)"
const edits = [
  [
    "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)",
    `  function nextWrite(fn) {\n    // ${marker}: the socket may be gone.\n    if (!socket) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      return false\n    }\n    const x = socket.write(chunk, fn)`
  ],
  [
    "    clearImmediate(nextWriteTimer)\n    socket.removeListener('data', data)\n    socket.removeListener('connect', connected)\n    idleTimer.cancel()",
    "    clearImmediate(nextWriteTimer)\n    nextWriteTimer = null\n    socket.removeListener('data', data)\n    socket.removeListener('connect', connected)\n    idleTimer.cancel()"
  ]
]
for (const file of ["src/connection.js", "cjs/src/connection.js", "cf/src/connection.js"].map((f) => join(root, f))) {
  if (!existsSync(file)) continue
  let text = readFileSync(file, "utf8")
  if (text.includes(marker)) continue
  for (const [from, to] of edits) {
    if (!text.includes(from)) {
      console.error(`scripts/patch-postgres.mjs: postgres ${version} ${file} is not the code this fix was written for (3.4.9); check whether the new version fixes #1154 and remove the patch`)
      process.exit(1)
    }
    text = text.replace(from, to)
  }
  writeFileSync(file, text)
}

// A second change, for speed, not a fix: the driver escapes every element of an array parameter with two regular
// expression replacements, although almost none (ids, amounts, dates, keys) holds a backslash or a quote. An
// engine's renewal day sends ~150 such elements per renewal; this was 8% of its CPU (bench/scale.ts, a CPU profile).
// The same output: a backslash is doubled, a quote escaped, in that order, only when there is one.
const escapeMarker = "billcycle patch (array element fast path)"
const escapeFrom = "function arrayEscape(x) {\n  return x\n    .replace(escapeBackslash, '\\\\\\\\')\n    .replace(escapeQuote, '\\\\\"')\n}"
const escapeTo = `function arrayEscape(x) {\n  // ${escapeMarker}: most elements hold neither character.\n  if (x.indexOf('\\\\') !== -1) x = x.replace(escapeBackslash, '\\\\\\\\')\n  return x.indexOf('"') === -1 ? x : x.replace(escapeQuote, '\\\\"')\n}`
for (const file of ["src/types.js", "cjs/src/types.js", "cf/src/types.js"].map((f) => join(root, f))) {
  if (!existsSync(file)) continue
  const text = readFileSync(file, "utf8")
  if (text.includes(escapeMarker)) continue
  if (!text.includes(escapeFrom)) {
    console.error(`scripts/patch-postgres.mjs: postgres ${version} ${file} has no arrayEscape as 3.4.9 wrote it; check the new version's and update or remove this change`)
    process.exit(1)
  }
  writeFileSync(file, text.replace(escapeFrom, escapeTo))
}
