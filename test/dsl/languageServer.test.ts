/**
 * `billcycle rules lsp` as an editor sees it: a JSON-RPC client over the
 * child's stdio (Content-Length framing), no editor needed.
 */
import { spawn } from "node:child_process"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { billcyclePath } from "../cliRunner.ts"

class RpcClient {
  private buffer = Buffer.alloc(0)
  private nextId = 1
  private readonly pending = new Map<number, (result: unknown) => void>()
  private readonly notifications: Array<{ method: string; params: any }> = []
  private readonly waiters: Array<() => void> = []
  private readonly child: ChildProcessWithoutNullStreams
  constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child
    child.stdout.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      for (;;) {
        const header = this.buffer.indexOf("\r\n\r\n")
        if (header < 0) return
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, header).toString())![1])
        if (this.buffer.length < header + 4 + length) return
        const message = JSON.parse(this.buffer.subarray(header + 4, header + 4 + length).toString("utf8"))
        this.buffer = this.buffer.subarray(header + 4 + length)
        if (message.id !== undefined && message.method === undefined) this.pending.get(message.id)?.(message.result)
        else if (message.id !== undefined) this.send({ jsonrpc: "2.0", id: message.id, result: null }) // server-to-client requests
        else {
          this.notifications.push(message)
          for (const w of this.waiters.splice(0)) w()
        }
      }
    })
  }
  private send(message: object) {
    const body = Buffer.from(JSON.stringify(message), "utf8")
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`)
    this.child.stdin.write(body)
  }
  request<T = any>(method: string, params: object): Promise<T> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: unknown) => void)
      this.send({ jsonrpc: "2.0", id, method, params })
    })
  }
  notify(method: string, params: object) {
    this.send({ jsonrpc: "2.0", method, params })
  }
  /** The next notification of a method matching a predicate (waits for it). */
  async next(method: string, matches: (params: any) => boolean = () => true): Promise<any> {
    for (;;) {
      const i = this.notifications.findIndex((n) => n.method === method && matches(n.params))
      if (i >= 0) return this.notifications.splice(i, 1)[0]!.params
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), "billcycle-lsp-"))
const uri = pathToFileURL(join(dir, "shop.rules")).href
const otherUri = pathToFileURL(join(dir, "other.rules")).href
writeFileSync(join(dir, "declarations.json"), JSON.stringify({ properties: { grind: { type: "string", label: "Grind size of the beans" } }, teams: ["finance", "baristas"], lists: ["renewals"] }))
writeFileSync(join(dir, "other.rules"), 'rule welcome\n  when event subscription.created\nthen\n  wait 1 day\nend\n')

const withErrors = `rule unpaid
  when subscription.status is "unpaid"
then
  notify team "finance" "x"
end

rule late
  when subscription.status becomes "past_due"
  where subscription.end_date < 2026-13-45
then
  send email welcom to contact
  create task "call" for owner due in 2
end
`

let child: ChildProcessWithoutNullStreams
let client: RpcClient

beforeAll(async () => {
  child = spawn(billcyclePath, ["rules", "lsp"], { stdio: ["pipe", "pipe", "pipe"] })
  client = new RpcClient(child)
  const init = await client.request("initialize", { processId: null, rootUri: pathToFileURL(dir).href, capabilities: {} })
  expect(init.capabilities.hoverProvider).toBe(true)
  client.notify("initialized", {})
})

afterAll(async () => {
  await client.request("shutdown", {})
  client.notify("exit", {})
  await new Promise((resolve) => child.once("exit", resolve))
})

describe("billcycle rules lsp over stdio", () => {
  it("didOpen of a file with errors publishes the checker's diagnostics with codes and positions", async () => {
    client.notify("textDocument/didOpen", { textDocument: { uri, languageId: "billcycle-rules", version: 1, text: withErrors } })
    const published = await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    const found = published.diagnostics.map((d: any) => `${d.range.start.line}:${d.range.start.character} ${d.code} ${d.severity}`)
    expect(found).toEqual(["1:27 E010 1", "8:32 E116 1", "10:13 E104 1", "11:38 E108 1"])
    expect(published.diagnostics[0].message).toContain('a trigger needs "becomes"')
  })

  it("as you type: a change republishes, a fixed file has no diagnostics; a duplicate id in another file of the directory is reported", async () => {
    client.notify("textDocument/didChange", { textDocument: { uri, version: 2 }, contentChanges: [{ text: 'rule welcome\n  when event subscription.created\nthen\n  set subscription.grind to "fine"\nend\n' }] })
    const dup = await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    expect(dup.diagnostics.map((d: any) => `${d.range.start.line}:${d.range.start.character} ${d.code}`)).toEqual(["0:5 E114"])
    client.notify("textDocument/didChange", { textDocument: { uri, version: 3 }, contentChanges: [{ text: 'rule greet\n  when event subscription.created\nthen\n  set subscription.grind to "fine"\n  notify team "baristas" "{{subscription.name}}"\nend\n' }] })
    const clean = await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    expect(clean.diagnostics).toEqual([])
  })

  it("hover: a property's type and meaning, a custom property's label, a template's variables", async () => {
    const mrr = await client.request("textDocument/hover", { textDocument: { uri }, position: { line: 4, character: 35 } })
    expect(mrr.contents.value).toContain("**subscription.name**: string")
    const grind = await client.request("textDocument/hover", { textDocument: { uri }, position: { line: 3, character: 20 } })
    expect(grind.contents.value).toContain("custom property")
    expect(grind.contents.value).toContain("Grind size of the beans")
    client.notify("textDocument/didChange", { textDocument: { uri, version: 4 }, contentChanges: [{ text: "rule greet\n  when event subscription.created\n  where subscription.mrr > 10.00\nthen\n  send email welcome to contact\nend\n" }] })
    await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    const money = await client.request("textDocument/hover", { textDocument: { uri }, position: { line: 2, character: 22 } })
    expect(money.contents.value).toContain("**subscription.mrr**: money")
    expect(money.contents.value).toContain("monthly recurring revenue")
    const template = await client.request("textDocument/hover", { textDocument: { uri }, position: { line: 4, character: 15 } })
    expect(template.contents.value).toContain("email template welcome")
    expect(template.contents.value).toContain("`recipientName`")
  })

  it("completion: properties, statuses, templates, teams, lists, keywords", async () => {
    const text = 'rule c\n  when subscription.status becomes "\n  where subscription.\nthen\n  send email \n  notify team "\n  add contact to list "\n  \nend\n'
    client.notify("textDocument/didChange", { textDocument: { uri, version: 5 }, contentChanges: [{ text }] })
    await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    const labels = async (line: number, character: number) =>
      ((await client.request("textDocument/completion", { textDocument: { uri }, position: { line, character } })) as Array<{ label: string }>).map((i) => i.label)
    expect(await labels(1, 36)).toEqual(expect.arrayContaining(["unpaid", "past_due", "active"]))
    expect(await labels(2, 21)).toEqual(expect.arrayContaining(["mrr", "status", "grind"]))
    expect(await labels(4, 13)).toEqual(expect.arrayContaining(["welcome", "renewal_offer"]))
    expect(await labels(5, 15)).toEqual(["finance", "baristas"])
    expect(await labels(6, 23)).toEqual(["renewals"])
    expect(await labels(7, 2)).toEqual(expect.arrayContaining(["wait", "send", "notify", "if", "subscription"]))
  })

  it("formatting through rules fmt, keeping comments", async () => {
    const messy = "# lead\nrule   f   when event subscription.created # once\nthen\n      wait   1 day\nend"
    client.notify("textDocument/didChange", { textDocument: { uri, version: 6 }, contentChanges: [{ text: messy }] })
    await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    const edits = await client.request("textDocument/formatting", { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })
    expect(edits).toHaveLength(1)
    expect(edits[0].newText).toBe("# lead\nrule f\n  when event subscription.created # once\nthen\n  wait 1 day\nend\n")
    expect(edits[0].range).toEqual({ start: { line: 0, character: 0 }, end: { line: 4, character: 3 } })
  })

  it("go to definition of a rule id, in this file or another file of the directory", async () => {
    client.notify("textDocument/didChange", { textDocument: { uri, version: 7 }, contentChanges: [{ text: "# see welcome\nrule mine\n  when event subscription.created\nthen\n  wait 1 day\nend\n" }] })
    await client.next("textDocument/publishDiagnostics", (p) => p.uri === uri)
    const there = await client.request("textDocument/definition", { textDocument: { uri }, position: { line: 0, character: 8 } })
    expect(there).toEqual([{ uri: otherUri, range: { start: { line: 0, character: 5 }, end: { line: 0, character: 12 } } }])
    const here = await client.request("textDocument/definition", { textDocument: { uri }, position: { line: 1, character: 6 } })
    expect(here).toEqual([{ uri, range: { start: { line: 1, character: 5 }, end: { line: 1, character: 9 } } }])
  })
})
