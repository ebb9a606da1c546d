/** The door of the HTTP API (`billcycle serve`). */
export { Api, Conflict, InvalidRequest, NotFound } from "./Api.ts"
export { CurrentApiKey, money } from "./handlers.ts"
export { apiKeyTtlMs, apiRoutes, apiServer, maxBodyBytes } from "./server.ts"
