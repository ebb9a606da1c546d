// Minimal typings for the parts of nodemailer billcycle uses (the package ships none).
declare module "nodemailer" {
  export interface SendMailOptions {
    from?: string
    to?: string
    subject?: string
    text?: string
    html?: string
    messageId?: string
    headers?: Record<string, string>
    date?: Date
    attachments?: Array<{ filename: string; content: Buffer; contentType: string }>
  }
  export interface SentMessageInfo {
    messageId: string
    accepted: Array<string>
    rejected: Array<string>
  }
  export interface Transporter {
    sendMail(options: SendMailOptions): Promise<SentMessageInfo>
    close(): void
  }
  export function createTransport(url: string | Record<string, unknown>): Transporter
  const nodemailer: { createTransport: typeof createTransport }
  export default nodemailer
}
declare module "nodemailer/lib/mail-composer/index.js" {
  import type { SendMailOptions } from "nodemailer"
  export default class MailComposer {
    constructor(mail: SendMailOptions)
    compile(): { build(callback: (err: Error | null, message: Buffer) => void): void }
  }
}
