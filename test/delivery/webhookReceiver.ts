/**
 * A webhook receiver on 127.0.0.1 for delivery tests: records every request
 * (headers that matter and body) and answers with the status it is told to.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export interface ReceivedWebhook {
  readonly signature: string
  readonly key: string
  readonly contentType: string
  readonly body: string
}

export interface WebhookReceiver {
  readonly url: string
  readonly received: Array<ReceivedWebhook>
  /** The status later requests are answered with. */
  answer(status: number): void
  close(): Promise<void>
}

export const startWebhookReceiver = async (status = 200): Promise<WebhookReceiver> => {
  const received: Array<ReceivedWebhook> = []
  let answer = status
  const http = createServer((req, res) => {
    let body = ""
    req.on("data", (c) => { body += c })
    req.on("end", () => {
      received.push({ signature: String(req.headers["x-billcycle-signature"]), key: String(req.headers["idempotency-key"]), contentType: String(req.headers["content-type"]), body })
      res.writeHead(answer).end()
    })
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`,
    received,
    answer: (s) => { answer = s },
    close: () => new Promise<void>((resolve) => http.close(() => resolve()))
  }
}
