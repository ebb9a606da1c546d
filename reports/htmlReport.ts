/**
 * HTML pages of the revenue reports: self-contained (inline SVG and CSS, no
 * script, no network).
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const countColumn = /^(subscribers(_start|_end)?|paused|size|m\d+|subscriptions_(start|end)|new_subscriptions|canceled|expired)$/
const rateColumn = /(_rate|^nrr|^grr)$/

/**
 * A report cell for people (terminal tables, HTML): money with two decimals,
 * rates as percentages, counts as they are; n/a where the report has no value
 * (a ratio without a denominator: null in JSON, empty in CSV).
 */
export const formatReportCell = (column: string, v: unknown): string => {
  if (v === null) return "n/a"
  if (v === undefined) return ""
  if (typeof v !== "number") return String(v)
  return countColumn.test(column) ? String(v) : rateColumn.test(column) ? `${(v * 100).toFixed(1)}%` : v.toFixed(2)
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
}): string => {
  const num = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0))
  const fmt = (v: number) => v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  const w = 820, h = 260, pad = 56
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

  const cols = [...new Set(options.table.flatMap((r) => Object.keys(r)))]
  const table = `<table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>
${options.table.map((r) => `<tr>${cols.map((c) => `<td>${esc(formatReportCell(c, r[c]))}</td>`).join("")}</tr>`).join("\n")}</table>`

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(options.title ?? `billcycle ${options.kind} report`)} ${esc(options.from)}–${esc(options.to)}</title>
<style>body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;background:#f3f4f6;margin:0}
main{max-width:920px;margin:24px auto;background:#fff;padding:28px 40px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{margin:0 0 4px;font-size:22px}h2{font-size:15px;margin:28px 0 8px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e5e7eb;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th:first-child,td:first-child{text-align:left}
.muted{color:#6b7280}.scroll{overflow-x:auto}</style></head>
<body><main>
<h1>${esc(options.title ?? `Recurring revenue: ${options.kind}`)}</h1>
<div class="muted">${esc(options.from)} to ${esc(options.to)} · amounts in ${esc(options.currency)} · definitions in billcycle's reports/METRICS.md</div>
<h2>MRR at each month end</h2>${mrrChart}
<h2>MRR movements</h2>${moveChart}
<h2>Cohorts: share of customers with MRR &gt; 0, by months since their first paid month</h2>${heatChart}
<h2>${esc(options.kind)}</h2><div class="scroll">${table}</div>
</main></body></html>
`
}
