/** The rule language's AST: small, every node with its source range. */
export interface Range {
  readonly line: number
  readonly col: number
  readonly endLine: number
  readonly endCol: number
}

export interface Path { readonly kind: "Path"; readonly parts: ReadonlyArray<string>; readonly range: Range }

export type Literal =
  | { readonly kind: "String"; readonly value: string; readonly range: Range }
  | { readonly kind: "Number"; readonly value: number; readonly text: string; readonly range: Range }
  | { readonly kind: "Date"; readonly value: string; readonly range: Range }
  | { readonly kind: "Bool"; readonly value: boolean; readonly range: Range }

export interface Duration { readonly kind: "Duration"; readonly amount: number; readonly text: string; readonly unit: string; readonly range: Range; readonly unitRange: Range }

export type Trigger =
  | { readonly kind: "Becomes"; readonly path: Path; readonly op: string | undefined; readonly value: Literal | undefined; readonly known: boolean | undefined; readonly range: Range }
  | { readonly kind: "Changes"; readonly path: Path; readonly from: Literal; readonly to: Literal; readonly range: Range }
  | { readonly kind: "Event"; readonly name: string; readonly range: Range }
  | { readonly kind: "DateTrigger"; readonly duration: Duration; readonly direction: "before" | "after"; readonly path: Path; readonly range: Range }

/** `parens`: the author wrote parentheses around it (kept by the formatter; no effect on meaning). */
export type Condition = (
  | { readonly kind: "And" | "Or"; readonly left: Condition; readonly right: Condition; readonly range: Range }
  | { readonly kind: "Not"; readonly operand: Condition; readonly range: Range }
  | { readonly kind: "Compare"; readonly path: Path; readonly op: string; readonly value: Literal; readonly range: Range }
  | { readonly kind: "In"; readonly path: Path; readonly negated: boolean; readonly values: ReadonlyArray<Literal>; readonly range: Range }
  | { readonly kind: "Known"; readonly path: Path; readonly known: boolean; readonly range: Range }
) & { readonly parens?: true }

export interface Text { readonly kind: "Text"; readonly value: string; readonly range: Range }

export type Action =
  | { readonly kind: "SendEmail"; readonly template: string; readonly templateRange: Range; readonly to: "contact" | "billing contact"; readonly range: Range }
  | { readonly kind: "Notify"; readonly target: "team" | "owner" | "user"; readonly who: Text | undefined; readonly text: Text | undefined; readonly range: Range }
  | { readonly kind: "Set"; readonly path: Path; readonly value: Literal; readonly range: Range }
  | { readonly kind: "CreateTask"; readonly text: Text; readonly assignee: "owner" | "team"; readonly team: Text | undefined; readonly due: Duration; readonly range: Range }
  | { readonly kind: "ListChange"; readonly op: "add" | "remove"; readonly list: Text; readonly range: Range }
  | { readonly kind: "Wait"; readonly duration: Duration; readonly range: Range }
  | { readonly kind: "WaitUntil"; readonly duration: Duration; readonly direction: "before" | "after"; readonly path: Path; readonly range: Range }
  | { readonly kind: "If"; readonly condition: Condition; readonly then: ReadonlyArray<Action>; readonly otherwise: ReadonlyArray<Action> | undefined; readonly range: Range }
  | { readonly kind: "Webhook"; readonly url: Text; readonly range: Range }

export interface RuleNode {
  readonly kind: "Rule"
  readonly id: string
  readonly idRange: Range
  readonly title: string | undefined
  readonly triggers: ReadonlyArray<Trigger>
  readonly where: Condition | undefined
  readonly reenroll: boolean
  readonly reenrollRange: Range | undefined
  readonly unenroll: Condition | undefined
  readonly actions: ReadonlyArray<Action>
  readonly comments: ReadonlyArray<string>
  readonly range: Range
}

export interface RuleFile { readonly rules: ReadonlyArray<RuleNode> }
