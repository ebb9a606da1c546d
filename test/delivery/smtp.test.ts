/**
 * Delivery through a real SMTP conversation (an in-process smtp-server on
 * 127.0.0.1) and signed webhooks to a local HTTP server.
 */
import { createHmac } from "node:crypto"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { createServer as createNetServer } from "node:net"
import { Effect, Layer } from "effect"
import { SMTPServer } from "smtp-server"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MessageSender, signWebhook } from "../../engine/runtime/index.ts"
import type { ClaimedMessage } from "../../engine/sql/index.ts"
import { renderEmail } from "../../templates/index.ts"
import { sampleEmail } from "../templates/sample.ts"

const message = (over: Partial<ClaimedMessage> = {}): ClaimedMessage => ({
  id: 1, kind: "email", template: "receipt", dedupe_key: "email:receipt:42", subscription_id: 7, invoice_id: 42, recipient: "ingrid@example.no",
  language: "nb", locale: "nb-NO", payload: {}, attempts: 1, created_on: "2026-03-01", store_id: "a1b2c3", ...over
})

const received: Array<{ from: string; to: Array<string>; data: string }> = []
let server: SMTPServer
let port = 0
beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      let data = ""
      stream.on("data", (c: Buffer) => { data += c.toString("utf8") })
      stream.on("end", () => {
        received.push({ from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address), data })
        callback()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  port = (server.server.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const sendWith = (layer: Layer.Layer<MessageSender>, m: ClaimedMessage) =>
  Effect.runPromise(Effect.gen(function*() {
    const sender = yield* MessageSender
    const rendered = renderEmail("receipt", sampleEmail, { language: "nb", locale: "nb-NO" })
    return yield* sender.send(m, { ...rendered, from: "Bean There <hello@beanthere.example>" })
  }).pipe(Effect.provide(layer), Effect.scoped))

describe("SMTP delivery", () => {
  it("delivers once, with the delivery key as Message-ID and both parts", async () => {
    const outcome = await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${port}`), message())
    expect(outcome._tag).toBe("Sent")
    expect(received).toHaveLength(1)
    const mail = received[0]!
    expect(mail.to).toEqual(["ingrid@example.no"])
    expect(mail.from).toBe("hello@beanthere.example")
    expect(mail.data).toMatch(/^Message-ID: <email_receipt_42\.a1b2c3@billcycle\.local>/m)
    expect(mail.data).toMatch(/^X-Billcycle-Delivery-Key: email:receipt:42/m)
    expect(mail.data).toMatch(/^Subject: Kvittering for BT-000042\r?$/m)
    expect(mail.data).toContain("multipart/alternative")
    expect(mail.data).toContain("Content-Type: text/plain; charset=utf-8")
    expect(mail.data).toContain("Content-Type: text/html; charset=utf-8")
  })

  it("a crash between send and mark re-sends under the same Message-ID, so the receiver can drop the repeat", async () => {
    received.length = 0
    await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${port}`), message({ dedupe_key: "email:receipt:43", attempts: 1 }))
    // The engine died before recording "sent": the message is claimed again and sent again.
    await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${port}`), message({ dedupe_key: "email:receipt:43", attempts: 2 }))
    const ids = received.map((m) => /^Message-ID: (.*)$/m.exec(m.data)?.[1])
    expect(ids).toEqual(["<email_receipt_43.a1b2c3@billcycle.local>", "<email_receipt_43.a1b2c3@billcycle.local>"])
  })

  it("two stores' receipt 44 are two messages: a receiver that drops a repeated Message-ID keeps both", async () => {
    received.length = 0
    await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${port}`), message({ dedupe_key: "email:receipt:44", store_id: "a1b2c3" }))
    await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${port}`), message({ dedupe_key: "email:receipt:44", store_id: "d4e5f6" }))
    const ids = received.map((m) => /^Message-ID: (.*)$/m.exec(m.data)?.[1])
    expect(new Set(ids).size).toBe(2)
  })

  it("a server that greets and then never answers does not hold the engine: the send gives up (bounded socket timeout) and is retried", async () => {
    // nodemailer's default is to wait 10 minutes on a silent socket; this test's 90 s limit fails on that.
    const silent = createNetServer((socket) => socket.write("220 sink ESMTP\r\n"))
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()))
    try {
      const outcome = await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`), message({ dedupe_key: "email:receipt:45" }))
      expect(outcome).toMatchObject({ _tag: "Retry", error: expect.stringMatching(/timeout/i) })
    } finally {
      silent.close()
    }
  }, 90_000)

  it("a server that accepts and never greets is given up on the same way", async () => {
    const mute = createNetServer(() => {})
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", () => resolve()))
    try {
      const outcome = await sendWith(MessageSender.smtp(`smtp://127.0.0.1:${(mute.address() as AddressInfo).port}?greetingTimeout=500`), message({ dedupe_key: "email:receipt:46" }))
      expect(outcome).toMatchObject({ _tag: "Retry", error: expect.stringMatching(/greeting/i) })
    } finally {
      mute.close()
    }
  }, 90_000)

  it("an unreachable server is a retry, not a crash", async () => {
    const outcome = await sendWith(MessageSender.smtp("smtp://127.0.0.1:9"), message({ dedupe_key: "email:receipt:44" }))
    expect(outcome._tag).toBe("Retry")
  })
})

describe("webhooks", () => {
  it("posts signed JSON; a 500 is retried, a 200 is sent", async () => {
    const bodies: Array<{ signature: string; key: string; body: string }> = []
    let status = 500
    const http = createServer((req, res) => {
      let body = ""
      req.on("data", (c) => { body += c })
      req.on("end", () => {
        bodies.push({ signature: String(req.headers["x-billcycle-signature"]), key: String(req.headers["idempotency-key"]), body })
        res.writeHead(status).end()
      })
    })
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()))
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`
    process.env["BILLCYCLE_WEBHOOK_SECRET"] = "whsec_test"
    const hook = message({ kind: "webhook", template: "subscription.unpaid", dedupe_key: "rule:3:step:1", recipient: url, payload: { subscription_id: 7 } })
    const first = await sendWith(MessageSender.files("/tmp"), hook)
    status = 200
    const second = await sendWith(MessageSender.files("/tmp"), hook)
    await new Promise<void>((resolve) => http.close(() => resolve()))
    expect([first._tag, second._tag]).toEqual(["Retry", "Sent"])
    const { signature, key, body } = bodies[1]!
    expect(key).toBe("rule:3:step:1")
    const [t, v1] = signature.split(",").map((p) => p.split("=")[1]!)
    expect(v1).toBe(createHmac("sha256", "whsec_test").update(`${t}.${body}`).digest("hex"))
    expect(signWebhook("whsec_test", body, Number(t))).toBe(signature)
    expect(JSON.parse(body)).toMatchObject({ id: "rule:3:step:1", data: { subscription_id: 7 } })
  })
})
