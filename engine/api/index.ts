/** The door of the HTTP API (`billcycle serve`). */
export { Api, Conflict, InvalidRequest, NotFound } from "./Api.ts"
export { CurrentApiKey, money } from "./handlers.ts"
export { apiRoutes, apiServer, maxBodyBytes } from "./server.ts"
