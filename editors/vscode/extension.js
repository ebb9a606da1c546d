// The billcycle rules extension: starts `billcycle rules lsp` and lets VS Code talk to it over stdio.
"use strict"
const vscode = require("vscode")
const { LanguageClient, TransportKind } = require("vscode-languageclient/node")

let client

exports.activate = (context) => {
  const command = vscode.workspace.getConfiguration("billcycle").get("path") || "billcycle"
  const run = { command, args: ["rules", "lsp"], transport: TransportKind.stdio }
  client = new LanguageClient("billcycle-rules", "billcycle rules", { run, debug: run }, {
    documentSelector: [{ scheme: "file", language: "billcycle-rules" }]
  })
  context.subscriptions.push({ dispose: () => client && client.stop() })
  return client.start()
}

exports.deactivate = () => (client ? client.stop() : undefined)
