/**
 * The products use cases as an Effect service: what the CLI and the HTTP API
 * call, run and failing as the contacts' do (Contacts.ts): a `CatalogueError`
 * as a value, else `BadInput` or `DatabaseError`.
 */
import { Context, Effect, Layer } from "effect"
import type { ListQuery } from "../sql/index.ts"
import { Database } from "../sql/index.ts"
import type { ProductChange, ProductInput, ProductRow, ProductUpdate } from "./catalogue.ts"
import { addProduct, archiveProduct, listProducts, updateProduct } from "./catalogue.ts"
import type { CatalogueResult } from "./runCatalogue.ts"
import { catalogueRunner } from "./runCatalogue.ts"

export interface ProductsService {
  readonly add: (input: ProductInput) => CatalogueResult<ProductRow>
  /** The catalogue in the order products were added; archived products only when asked for. */
  readonly list: (includeArchived: boolean) => ListQuery<ProductRow>
  /** Changes a product for new subscriptions (`product.updated`); existing subscriptions keep their own items. */
  readonly update: (sku: string, input: ProductUpdate, today: string) => CatalogueResult<ProductChange>
  /** Retires a product from new subscriptions (`product.archived`); archiving it again changes nothing. */
  readonly archive: (sku: string, today: string) => CatalogueResult<{ product: ProductRow; archivedNow: boolean; subscriptions: number }>
}

/** The service over a database. */
export const makeProducts = (db: Database["Service"]): ProductsService => {
  const run = catalogueRunner(db)
  return {
    add: (input) => run((sql) => addProduct(sql, input)),
    list: (includeArchived) => (sql) => listProducts(sql, includeArchived),
    update: (sku, input, today) => run((sql) => updateProduct(sql, sku, input, today)),
    archive: (sku, today) => run((sql) => archiveProduct(sql, sku, today))
  }
}

export class Products extends Context.Service<Products, ProductsService>()("billcycle/engine/catalogue/Products") {
  /** The use cases over the Database of the command or the server. */
  static readonly layer: Layer.Layer<Products, never, Database> = Layer.effect(Products, Effect.map(Effect.service(Database), makeProducts))
}
