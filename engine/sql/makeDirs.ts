/**
 * `mkdir -p` that fails instead of hanging: Node's recursive mkdir loops
 * forever under /proc (each level answers ENOENT), so the missing folders are
 * made one at a time from the nearest one that exists.
 */
import { mkdirSync, statSync } from "node:fs"
import { dirname, resolve } from "node:path"

export const makeDirs = (path: string): void => {
  const missing: Array<string> = []
  let p = resolve(path)
  for (;;) {
    let isDir: boolean | undefined
    try {
      isDir = statSync(p).isDirectory()
    } catch {
      isDir = undefined
    }
    if (isDir === true) break
    if (isDir === false) throw new Error(`${p} is a file, not a folder`)
    missing.push(p)
    const up = dirname(p)
    if (up === p) break
    p = up
  }
  for (const dir of missing.reverse()) mkdirSync(dir)
}
