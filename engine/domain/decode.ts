/**
 * Turning a schema decoding failure into one readable line that names the
 * field ("items[1].quantity: quantity must be a whole number greater than 0").
 */
import { Result, Schema } from "effect"

export interface DecodeFailure {
  readonly message: string
}

/** Decodes `input`, returning the value or a one-line message naming the field. */
export const decodeWithMessage = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const decode = Schema.decodeUnknownResult(schema as any)
  return (input: unknown): Result.Result<S["Type"], DecodeFailure> => {
    const r = decode(input) as Result.Result<S["Type"], Schema.SchemaError>
    return Result.isSuccess(r) ? r as any : Result.fail({ message: oneLine(String(r.failure.message)) })
  }
}

const oneLine = (message: string): string =>
  message.split("\n").map((l) => l.trim()).filter((l) => l.length > 0).join(" ")
