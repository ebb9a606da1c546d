// `npm run build:cli` (also run by `npm install`): bundles the command line
// (engine/cli/main.ts and what it imports, with effect and chevrotain) into a
// few JavaScript files under node_modules/.cache/billcycle/cli/, which
// bin/billcycle runs instead of the sources while no source is newer than the
// bundle. One start then reads a dozen files instead of ~550 modules (each
// resolved, stat'ed and type-stripped): `billcycle --help` takes about half the
// CPU time (`npm run bench -- cli`). The sources stay the truth: an edited
// source makes bin/billcycle run the sources again until the next build, and
// `node engine/cli/main.ts` always runs them.
//
// Packages with native code, WebAssembly or files of their own (PGlite,
// DuckDB, playwright, nodemailer, handlebars, postgres, ...) stay outside the
// bundle and are imported from node_modules as before. A module's
// `import.meta.url` still names its source file, so the files it reads beside
// itself (migrations, templates, the demo's example) are found as before.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
export const outDir = join(root, "node_modules", ".cache", "billcycle", "cli")

let rolldown
try {
  ;({ rolldown } = await import("rolldown"))
} catch {
  // Installed without dev dependencies: bin/billcycle runs the sources.
  console.log("build-cli: rolldown is not installed; bin/billcycle runs the TypeScript sources")
  process.exit(0)
}

const bundled = /^(effect|@effect\/|chevrotain$|@chevrotain\/)/
const sourceDirs = ["engine", "dsl", "reports", "templates"].map((d) => join(root, d) + "/")

const keepImportMetaUrl = {
  name: "billcycle-import-meta-url",
  transform(code, id) {
    if (!sourceDirs.some((d) => id.startsWith(d)) || !code.includes("import.meta")) return null
    const rest = code.replace(/import\.meta\.url/g, "")
    if (rest.includes("import.meta")) throw new Error(`${relative(root, id)}: only import.meta.url is supported in a bundled module`)
    const fromOut = relative(outDir, id).split("\\").join("/")
    return { code: code.replace(/import\.meta\.url/g, `new URL(${JSON.stringify(fromOut)}, import.meta.url).href`), map: null }
  }
}

const tmp = `${outDir}.tmp-${process.pid}`
rmSync(tmp, { recursive: true, force: true })
const bundle = await rolldown({
  input: join(root, "engine", "cli", "main.ts"),
  platform: "node",
  external: (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0") && !bundled.test(id),
  plugins: [keepImportMetaUrl],
  logLevel: "warn",
  onLog: (level, log) => {
    // Effect's own modules use circular imports and `/*#__PURE__*/` comments the bundler reports; harmless.
    if (["CIRCULAR_DEPENDENCY", "INVALID_ANNOTATION", "EVAL"].includes(log.code)) return
    console.warn(`build-cli: ${log.message}`)
  }
})
await bundle.write({ dir: tmp, format: "esm", minify: true, charset: "ascii", chunkFileNames: "[name]-[hash].js", entryFileNames: "main.js" })
await bundle.close()
// Node looks for a file's package.json no further up than its node_modules folder: without this
// one it knows not whether the chunks are ES modules and parses each twice to find out.
writeFileSync(join(tmp, "package.json"), JSON.stringify({ type: "module" }) + "\n")
// Swapped in whole: a command starting meanwhile sees the old bundle or the new one, never half of one.
mkdirSync(dirname(outDir), { recursive: true })
const old = `${outDir}.old-${process.pid}`
if (existsSync(outDir)) renameSync(outDir, old)
renameSync(tmp, outDir)
rmSync(old, { recursive: true, force: true })
console.log(`build-cli: bundled the command line into ${relative(root, outDir)}`)
