/**
 * HTML pages of the revenue reports: self-contained (inline SVG and CSS, no
 * script, no network).
 */
import { minorUnitExponent } from "../engine/domain/index.ts"
import { unconvertedNote } from "./revenue.ts"

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export const countColumn = /^(subscribers(_start|_end)?|paused|size|m\d+|subscriptions_(start|end)|new_subscriptions|canceled|expired)$/
export const rateColumn = /(_rate|^nrr|^grr)$/


/**
 * A report cell for people (terminal tables, HTML): money with the report
 * currency's decimals (two for USD, none for JPY, three for KWD), rates as
 * percentages, counts as they are; n/a where the report has no value (a ratio
 * without a denominator: null in JSON, empty in CSV).
 */
export const formatReportCell = (column: string, v: unknown, currency?: string): string => {
  if (v === null) return "n/a"
  if (v === undefined) return ""
  if (typeof v !== "number") return String(v)
  return countColumn.test(column) ? String(v) : rateColumn.test(column) ? `${(v * 100).toFixed(1)}%` : v.toFixed(currency === undefined ? 2 : minorUnitExponent(currency))
}

/**
 * A chart axis from 0 to at least `max`: the smallest step of 1, 2, 2.5 or 5 ×
 * 10^k that covers `max` in at most five intervals (so four to six lines).
 */
export const niceAxis = (max: number): { readonly step: number; readonly top: number; readonly ticks: ReadonlyArray<number> } => {
  const m = max > 0 && Number.isFinite(max) ? max : 1
  let k = Math.floor(Math.log10(m / 5))
  for (;;) {
    for (const f of [1, 2, 2.5, 5]) {
      const step = f * 10 ** k
      // Rounded to the step's precision, so that 3 × 0.1 is 0.3.
      const clean = (x: number) => Number(x.toPrecision(12))
      const n = Math.ceil(clean(m / step))
      if (n <= 5) return { step: clean(step), top: clean(n * step), ticks: Array.from({ length: n + 1 }, (_, i) => clean(i * step)) }
    }
    k++
  }
}

/** An axis label: 250, 2.5k, 1M (no trailing zeros). */
const axisLabel = (v: number) => {
  const trim = (x: number) => String(Number(x.toPrecision(6)))
  return Math.abs(v) >= 1e6 ? `${trim(v / 1e6)}M` : Math.abs(v) >= 1e3 ? `${trim(v / 1e3)}k` : trim(v)
}

interface ChartData {
  readonly currency: string
  readonly mrr: ReadonlyArray<Record<string, unknown>>
  readonly movements: ReadonlyArray<Record<string, unknown>>
  readonly cohorts: ReadonlyArray<Record<string, unknown>>
}

const num = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0))
const fmt = (v: number) => v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const w = 820, pad = 56

/** The three charts of every revenue page: MRR over time, the movements stacked, the cohort heatmap. */
const revenueCharts = (options: ChartData) => {
  const h = 260
  const months = options.mrr.map((r) => String(r["month"]))
  const n = Math.max(1, months.length)
  const slot = (w - 2 * pad) / n
  const cx = (i: number) => pad + slot * (i + 0.5)
  const labels = (y: number) => months.map((m, i) => (n <= 18 || i % Math.ceil(n / 18) === 0 ? `<text x="${cx(i).toFixed(1)}" y="${y}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(m.slice(2))}</text>` : "")).join("")

  // MRR over time.
  const mrrValues = options.mrr.map((r) => num(r["mrr"]))
  const mrrAxis = niceAxis(Math.max(0, ...mrrValues))
  const maxMrr = mrrAxis.top
  const y1 = (v: number) => h - pad - (v / maxMrr) * (h - 2 * pad)
  const grid1 = mrrAxis.ticks.map((t) => `<line x1="${pad}" x2="${w - pad}" y1="${y1(t).toFixed(1)}" y2="${y1(t).toFixed(1)}" stroke="#e5e7eb"/><text x="${pad - 6}" y="${(y1(t) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#6b7280">${axisLabel(t)}</text>`).join("")
  const path = mrrValues.map((v, i) => `${i === 0 ? "M" : "L"}${cx(i).toFixed(1)},${y1(v).toFixed(1)}`).join(" ")
  const dots = mrrValues.map((v, i) => `<circle cx="${cx(i).toFixed(1)}" cy="${y1(v).toFixed(1)}" r="3.5" fill="#1d4ed8"><title>${esc(months[i]!)}: ${fmt(v)} ${esc(options.currency)}</title></circle>`).join("")
  const mrrChart = `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="MRR over time">${grid1}<path d="${path}" fill="none" stroke="#1d4ed8" stroke-width="2.5"/>${dots}${labels(h - pad + 18)}</svg>`

  // Movements, stacked.
  const gains = [["new", "#15803d"], ["expansion", "#4ade80"], ["reactivation", "#0e7490"]] as const
  const losses = [["contraction", "#f59e0b"], ["churn", "#b91c1c"]] as const
  const up = options.movements.map((r) => gains.reduce((s, [k]) => s + num(r[k]), 0) + Math.max(0, num(r["fx_adjustment"])))
  const down = options.movements.map((r) => losses.reduce((s, [k]) => s + num(r[k]), 0) + Math.max(0, -num(r["fx_adjustment"])))
  const maxMove = niceAxis(Math.max(0, ...up, ...down)).top
  const h2 = 300, axis = h2 / 2, scaleY = (axis - 30) / maxMove, bw = Math.max(4, slot * 0.6)
  const bars = options.movements.map((r, i) => {
    const x = (cx(i) - bw / 2).toFixed(1)
    let top = axis, bottom = axis, out = ""
    const fx = num(r["fx_adjustment"])
    for (const [k, color] of [...gains, ...(fx > 0 ? [["fx_adjustment", "#a78bfa"] as const] : [])]) {
      const v = k === "fx_adjustment" ? fx : num(r[k]), hh = v * scaleY
      if (hh <= 0) continue
      top -= hh
      out += `<rect x="${x}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${hh.toFixed(1)}" fill="${color}"><title>${esc(String(r["month"]))} ${k}: ${fmt(v)}</title></rect>`
    }
    for (const [k, color] of [...losses, ...(fx < 0 ? [["fx_adjustment", "#a78bfa"] as const] : [])]) {
      const v = k === "fx_adjustment" ? -fx : num(r[k]), hh = v * scaleY
      if (hh <= 0) continue
      out += `<rect x="${x}" y="${bottom.toFixed(1)}" width="${bw.toFixed(1)}" height="${hh.toFixed(1)}" fill="${color}"><title>${esc(String(r["month"]))} ${k}: −${fmt(v)}</title></rect>`
      bottom += hh
    }
    const net = num(r["net_new_mrr"])
    return out + `<circle cx="${cx(i).toFixed(1)}" cy="${(axis - net * scaleY).toFixed(1)}" r="3" fill="#111827"><title>${esc(String(r["month"]))} net new MRR: ${fmt(net)}</title></circle>`
  }).join("")
  const legend = [...gains, ...losses, ["fx_adjustment", "#a78bfa"] as const, ["net new", "#111827"] as const]
    .map(([k, color], i) => `<rect x="${pad + i * 108}" y="8" width="10" height="10" fill="${color}"/><text x="${pad + i * 108 + 14}" y="17" font-size="11" fill="#374151">${esc(k)}</text>`).join("")
  const moveChart = `<svg viewBox="0 0 ${w} ${h2 + 24}" width="100%" role="img" aria-label="MRR movements per month">${legend}<line x1="${pad}" x2="${w - pad}" y1="${axis}" y2="${axis}" stroke="#9ca3af"/><text x="${pad - 6}" y="34" font-size="11" text-anchor="end" fill="#6b7280">+${axisLabel(maxMove)}</text><text x="${pad - 6}" y="${h2 - 26}" font-size="11" text-anchor="end" fill="#6b7280">−${axisLabel(maxMove)}</text>${bars}${labels(h2 + 16)}</svg>`

  // Cohort heatmap: share of each cohort with MRR > 0, by months since its first month.
  const cohorts = options.cohorts.filter((c) => num(c["size"]) > 0)
  const maxAge = Math.max(1, ...options.cohorts.map((c) => Object.keys(c).filter((k) => /^m\d+$/.test(k)).length))
  const cell = Math.min(40, (w - 2 * pad - 20) / maxAge), ch = 22
  const heat = cohorts.map((c, row) => {
    const size = num(c["size"])
    let cells = ""
    for (let j = 0; j < maxAge; j++) {
      const v = c[`m${j}`]
      if (v === undefined) continue
      const share = size === 0 ? 0 : num(v) / size
      const light = Math.round(96 - share * 62)
      cells += `<rect x="${(pad + 24 + j * cell).toFixed(1)}" y="${30 + row * ch}" width="${(cell - 2).toFixed(1)}" height="${ch - 2}" fill="hsl(221 83% ${light}%)"><title>${esc(String(c["cohort"]))} month ${j}: ${num(v)} of ${size} (${Math.round(share * 100)}%)</title></rect>`
      if (cell >= 30) cells += `<text x="${(pad + 24 + j * cell + cell / 2 - 1).toFixed(1)}" y="${30 + row * ch + 15}" font-size="10" text-anchor="middle" fill="${share > 0.55 ? "#fff" : "#1f2937"}">${Math.round(share * 100)}</text>`
    }
    return `<text x="${pad + 18}" y="${30 + row * ch + 15}" font-size="11" text-anchor="end" fill="#374151">${esc(String(c["cohort"]))} (${size})</text>${cells}`
  }).join("")
  const heatH = 40 + cohorts.length * ch
  const heatAxis = Array.from({ length: maxAge }, (_, j) => (cell >= 16 || j % 3 === 0 ? `<text x="${(pad + 24 + j * cell + cell / 2).toFixed(1)}" y="22" font-size="10" text-anchor="middle" fill="#6b7280">m${j}</text>` : "")).join("")
  const heatChart = cohorts.length === 0 ? `<p class="muted">No customer started paying in these months.</p>`
    : `<svg viewBox="0 0 ${w} ${heatH}" width="100%" role="img" aria-label="Cohort retention heatmap">${heatAxis}${heat}</svg>`

  return { months, slot, cx, labels, mrrChart, moveChart, heatChart }
}

/** A report's rows as a table, cells as the CLI's table prints them (the header even without rows, when the columns are given). */
const reportTable = (rows: ReadonlyArray<Record<string, unknown>>, currency: string, columns?: ReadonlyArray<string>) => {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))]
  return `<table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>
${rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(formatReportCell(c, r[c], currency))}</td>`).join("")}</tr>`).join("\n")}</table>`
}

const pageStyle = `<style>body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;background:#f3f4f6;margin:0}
main{max-width:920px;margin:24px auto;background:#fff;padding:28px 40px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{margin:0 0 4px;font-size:22px}h2{font-size:15px;margin:28px 0 8px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e5e7eb;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th:first-child,td:first-child{text-align:left}
.muted{color:#6b7280}.scroll{overflow-x:auto}.warn{color:#92400e;background:#fef3c7;padding:6px 10px}</style>`

/** The note of the currencies left out (`unconvertedNote`), as a page shows it; empty when none is. */
const unconvertedWarning = (unconverted: ReadonlyArray<string> | undefined, currency: string) => {
  const note = unconvertedNote(unconverted ?? [], currency)
  return note === undefined ? "" : `<p class="warn">${esc(note)}</p>`
}

/**
 * `report … --format html`: one self-contained page (inline SVG and CSS, no
 * script, no network) with MRR over time, the movements as stacked bars
 * (gains above the axis, losses below), the cohort heatmap, and the table of
 * the report asked for.
 */
export const revenueReportHtml = (options: {
  /** The page's heading (default "Recurring revenue: KIND"). */
  readonly title?: string
  readonly kind: string
  readonly currency: string
  readonly from: string
  readonly to: string
  readonly mrr: ReadonlyArray<Record<string, unknown>>
  readonly movements: ReadonlyArray<Record<string, unknown>>
  readonly cohorts: ReadonlyArray<Record<string, unknown>>
  readonly table: ReadonlyArray<Record<string, unknown>>
  /** The table's columns (`reportColumns`), so that an empty table keeps its header; default: its rows' keys. */
  readonly columns?: ReadonlyArray<string>
  /** Currencies of the store left out of the figures (no rate to `currency`): the page says so. */
  readonly unconverted?: ReadonlyArray<string>
}): string => {
  const { mrrChart, moveChart, heatChart } = revenueCharts(options)
  const table = reportTable(options.table, options.currency, options.columns)
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(options.title ?? `billcycle ${options.kind} report`)} ${esc(options.from)}–${esc(options.to)}</title>
${pageStyle}</head>
<body><main>
<h1>${esc(options.title ?? `Recurring revenue: ${options.kind}`)}</h1>
<div class="muted">${esc(options.from)} to ${esc(options.to)} · amounts in ${esc(options.currency)} · definitions in billcycle's reports/METRICS.md</div>
${unconvertedWarning(options.unconverted, options.currency)}<h2>MRR at each month end</h2>${mrrChart}
<h2>MRR movements</h2>${moveChart}
<h2>Cohorts: share of customers with MRR &gt; 0, by months since their first paid month</h2>${heatChart}
<h2>${esc(options.kind)}</h2><div class="scroll">${table}</div>
</main></body></html>
`
}

/** Lines of rates (0.05 = 5%) per month, the axis at round percentages, below zero when a rate is negative. */
const rateChart = (label: string, months: ReadonlyArray<string>, series: ReadonlyArray<{ readonly name: string; readonly color: string; readonly values: ReadonlyArray<number | null> }>) => {
  const h = 240
  const n = Math.max(1, months.length)
  const slot = (w - 2 * pad) / n
  const cx = (i: number) => pad + slot * (i + 0.5)
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null))
  const highest = Math.max(0, ...all) * 100, lowest = Math.min(0, ...all) * 100
  // One round step for the whole span (in percent points), the axis from a multiple of it below zero to one above the highest rate.
  const step = niceAxis(highest - lowest).step
  const clean = (x: number) => Number(x.toPrecision(12))
  const top = clean(Math.max(1, Math.ceil(clean(highest / step))) * step) / 100, bottom = clean(Math.floor(clean(lowest / step)) * step) / 100
  const y = (v: number) => h - pad + 20 - ((v - bottom) / (top - bottom)) * (h - 2 * pad)
  const ticks = Array.from({ length: Math.round((top - bottom) * 100 / step) + 1 }, (_, i) => clean(bottom * 100 + i * step) / 100)
  const pct = (v: number) => `${Number((v * 100).toPrecision(6))}%`
  const grid = ticks.map((t) => `<line x1="${pad}" x2="${w - pad}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${t === 0 ? "#9ca3af" : "#e5e7eb"}"/><text x="${pad - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#6b7280">${pct(t)}</text>`).join("")
  const lines = series.map((s) => {
    // A month without a value (no denominator) breaks the line.
    const d = s.values.map((v, i) => (v === null ? "" : `${i === 0 || s.values[i - 1] === null ? "M" : "L"}${cx(i).toFixed(1)},${y(v).toFixed(1)}`)).join(" ")
    const dots = s.values.map((v, i) => (v === null ? "" : `<circle cx="${cx(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(months[i]!)} ${esc(s.name)}: ${(v * 100).toFixed(1)}%</title></circle>`)).join("")
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}`
  }).join("")
  const legend = series.map((s, i) => `<rect x="${pad + i * 170}" y="8" width="10" height="10" fill="${s.color}"/><text x="${pad + i * 170 + 14}" y="17" font-size="11" fill="#374151">${esc(s.name)}</text>`).join("")
  const labels = months.map((m, i) => (n <= 18 || i % Math.ceil(n / 18) === 0 ? `<text x="${cx(i).toFixed(1)}" y="${h - pad + 40}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(m.slice(2))}</text>` : "")).join("")
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${esc(label)}">${legend}${grid}${lines}${labels}</svg>`
}

/** The period's movements as a waterfall: MRR at the start, each kind of movement summed over the months, MRR at the end. */
const waterfallChart = (currency: string, movements: ReadonlyArray<Record<string, unknown>>) => {
  if (movements.length === 0) return `<p class="muted">No months.</p>`
  const sum = (k: string) => movements.reduce((s, r) => s + num(r[k]), 0)
  const start = num(movements[0]!["mrr_start"]), end = num(movements[movements.length - 1]!["mrr_end"])
  const steps: Array<{ name: string; delta: number; color: string }> = [
    { name: "new", delta: sum("new"), color: "#15803d" },
    { name: "expansion", delta: sum("expansion"), color: "#4ade80" },
    { name: "reactivation", delta: sum("reactivation"), color: "#0e7490" },
    { name: "contraction", delta: -sum("contraction"), color: "#f59e0b" },
    { name: "churn", delta: -sum("churn"), color: "#b91c1c" },
    { name: "fx adjustment", delta: sum("fx_adjustment"), color: "#a78bfa" }
  ]
  const bars: Array<{ name: string; from: number; to: number; color: string; total: boolean }> = [{ name: "MRR at start", from: 0, to: start, color: "#1d4ed8", total: true }]
  let level = start
  for (const s of steps) {
    bars.push({ name: s.name, from: level, to: level + s.delta, color: s.color, total: false })
    level += s.delta
  }
  bars.push({ name: "MRR at end", from: 0, to: end, color: "#1d4ed8", total: true })
  const h = 280
  const axis = niceAxis(Math.max(0, ...bars.map((b) => Math.max(b.from, b.to))))
  const y = (v: number) => h - pad - (Math.max(0, v) / axis.top) * (h - 2 * pad)
  const slot = (w - 2 * pad) / bars.length, bw = slot * 0.62
  const grid = axis.ticks.map((t) => `<line x1="${pad}" x2="${w - pad}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e7eb"/><text x="${pad - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#6b7280">${axisLabel(t)}</text>`).join("")
  const rects = bars.map((b, i) => {
    const x = pad + slot * i + (slot - bw) / 2
    const top = y(Math.max(b.from, b.to)), height = Math.max(1, Math.abs(y(b.from) - y(b.to)))
    const value = b.total ? fmt(b.to) : `${b.to >= b.from ? "+" : "−"}${fmt(Math.abs(b.to - b.from))}`
    const link = i < bars.length - 1 ? `<line x1="${(x + bw).toFixed(1)}" x2="${(x + slot).toFixed(1)}" y1="${y(b.to).toFixed(1)}" y2="${y(b.to).toFixed(1)}" stroke="#9ca3af" stroke-dasharray="3 2"/>` : ""
    return `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${height.toFixed(1)}" fill="${b.color}"><title>${esc(b.name)}: ${value} ${esc(currency)}</title></rect>${link}`
      + `<text x="${(x + bw / 2).toFixed(1)}" y="${(top - 5).toFixed(1)}" font-size="10" text-anchor="middle" fill="#374151">${value}</text>`
      + `<text x="${(x + bw / 2).toFixed(1)}" y="${h - pad + 18}" font-size="11" text-anchor="middle" fill="#374151">${esc(b.name)}</text>`
  }).join("")
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="MRR waterfall over the period">${grid}${rects}</svg>`
}

/** The reports' rows a dashboard shows: the ReportSet of `buildReports` / `computeReports` (no figure is computed here). */
export interface DashboardReports {
  readonly mrr: ReadonlyArray<Record<string, unknown>>
  readonly movements: ReadonlyArray<Record<string, unknown>>
  readonly churn: ReadonlyArray<Record<string, unknown>>
  readonly retention: ReadonlyArray<Record<string, unknown>>
  readonly growth: ReadonlyArray<Record<string, unknown>>
  readonly cohorts: ReadonlyArray<Record<string, unknown>>
}

/**
 * Finance's dashboard (`report dashboard --format html`, `GET /reports` of
 * `serve`): every report of one period on one self-contained page (inline
 * SVG and CSS, no script, no network): MRR and ARR at the period's end,
 * MRR over time, the movements as a waterfall and per month, churn and
 * retention lines, the cohort heatmap, and each report's table. Every figure
 * is a cell of the reports, printed as the CLI's table prints it.
 */
export const revenueDashboardHtml = (options: { readonly currency: string; readonly from: string; readonly to: string; readonly reports: DashboardReports; readonly unconverted?: ReadonlyArray<string> }): string => {
  const r = options.reports
  const { months, mrrChart, moveChart, heatChart } = revenueCharts({ currency: options.currency, mrr: r.mrr, movements: r.movements, cohorts: r.cohorts })
  const last = r.mrr[r.mrr.length - 1] ?? {}
  const lastChurn = r.churn[r.churn.length - 1] ?? {}
  const lastRetention = r.retention[r.retention.length - 1] ?? {}
  const netNew = r.movements.reduce((s, m) => s + num(m["net_new_mrr"]), 0)
  const card = (title: string, value: string, note: string) => `<div class="card"><div class="muted">${esc(title)}</div><div class="kpi">${esc(value)}</div><div class="muted small">${esc(note)}</div></div>`
  const at = `end of ${options.to}`
  const cards = [
    card("MRR", `${formatReportCell("mrr", last["mrr"], options.currency)} ${options.currency}`, at),
    card("ARR", `${formatReportCell("arr", last["arr"], options.currency)} ${options.currency}`, at),
    card("Subscribers", formatReportCell("subscribers", last["subscribers"]), at),
    card("Net new MRR", `${formatReportCell("net_new_mrr", Number(netNew.toFixed(minorUnitExponent(options.currency))), options.currency)} ${options.currency}`, `${options.from} to ${options.to}`),
    card("Logo churn", formatReportCell("logo_churn_rate", lastChurn["logo_churn_rate"]), options.to),
    card("Net revenue retention", formatReportCell("nrr", lastRetention["nrr"]), options.to)
  ].join("")
  const rate = (rows: ReadonlyArray<Record<string, unknown>>, k: string) => rows.map((x) => (x[k] === null || x[k] === undefined ? null : num(x[k])))
  const churnChart = rateChart("Churn rates per month", months, [
    { name: "logo churn", color: "#b91c1c", values: rate(r.churn, "logo_churn_rate") },
    { name: "gross MRR churn", color: "#f59e0b", values: rate(r.churn, "gross_mrr_churn_rate") },
    { name: "net MRR churn", color: "#7c3aed", values: rate(r.churn, "net_mrr_churn_rate") }
  ])
  const retentionChart = rateChart("Retention per month", months, [
    { name: "net revenue retention", color: "#15803d", values: rate(r.retention, "nrr") },
    { name: "gross revenue retention", color: "#1d4ed8", values: rate(r.retention, "grr") }
  ])
  const tables = (["mrr", "movements", "churn", "retention", "growth", "cohorts"] as const)
    .map((k) => `<h3>${k}</h3><div class="scroll">${reportTable(r[k], options.currency)}</div>`).join("\n")
  const warning = unconvertedWarning(options.unconverted, options.currency)
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>billcycle revenue dashboard ${esc(options.from)}–${esc(options.to)}</title>
${pageStyle}<style>.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:12px;margin-top:18px}.card{border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px}
.kpi{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}.small{font-size:12px}.warn{color:#92400e;background:#fef3c7;padding:6px 10px}h3{font-size:13px;margin:18px 0 4px}
@media print{body{background:#fff}main{box-shadow:none;margin:0}}</style></head>
<body><main>
<h1>Recurring revenue dashboard</h1>
<div class="muted">${esc(options.from)} to ${esc(options.to)} · amounts in ${esc(options.currency)} · definitions in billcycle's reports/METRICS.md</div>
${warning}<div class="cards">${cards}</div>
<h2>MRR at each month end</h2>${mrrChart}
<h2>MRR waterfall, ${esc(options.from)} to ${esc(options.to)}</h2>${waterfallChart(options.currency, r.movements)}
<h2>MRR movements per month</h2>${moveChart}
<h2>Churn</h2>${churnChart}
<h2>Retention</h2>${retentionChart}
<h2>Cohorts: share of customers with MRR &gt; 0, by months since their first paid month</h2>${heatChart}
<h2>The reports</h2>
${tables}
</main></body></html>
`
}
