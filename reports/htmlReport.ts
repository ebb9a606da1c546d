/**
 * A self-contained HTML page of a month-end MRR series: an inline SVG line
 * chart of MRR and bars of new and churned MRR, and the table. No scripts,
 * no network.
 */
import type { MrrMonth } from "./mrrSeries.ts"

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const dollars = (minor: number) => `$${(Math.round(minor) / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

export const mrrReportHtml = (title: string, months: ReadonlyArray<MrrMonth>): string => {
  const w = 760, h = 260, pad = 48
  const max = Math.max(1, ...months.map((m) => m.mrr))
  const maxBar = Math.max(1, ...months.map((m) => Math.max(m.newMrr, m.churnedMrr)))
  const x = (i: number) => pad + (i * (w - 2 * pad)) / Math.max(1, months.length - 1)
  const y = (v: number) => h - pad - (v / max) * (h - 2 * pad)
  const line = months.map((m, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(m.mrr).toFixed(1)}`).join(" ")
  const bw = Math.max(6, (w - 2 * pad) / Math.max(1, months.length) / 3)
  const bars = months.map((m, i) => {
    const nh = (m.newMrr / maxBar) * 80, ch = (m.churnedMrr / maxBar) * 80
    return `<rect x="${(x(i) - bw).toFixed(1)}" y="${(120 - nh).toFixed(1)}" width="${bw.toFixed(1)}" height="${nh.toFixed(1)}" fill="#15803d"><title>${esc(m.month)} new ${dollars(m.newMrr)}</title></rect>` +
      `<rect x="${x(i).toFixed(1)}" y="120" width="${bw.toFixed(1)}" height="${ch.toFixed(1)}" fill="#b91c1c"><title>${esc(m.month)} churned ${dollars(m.churnedMrr)}</title></rect>`
  }).join("")
  const labels = months.map((m, i) => `<text x="${x(i).toFixed(1)}" y="${h - pad + 18}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(m.month.slice(2))}</text>`).join("")
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => `<line x1="${pad}" x2="${w - pad}" y1="${y(max * f).toFixed(1)}" y2="${y(max * f).toFixed(1)}" stroke="#e5e7eb"/><text x="${pad - 6}" y="${(y(max * f) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#6b7280">${dollars(max * f).replace(/\.\d\d$/, "")}</text>`).join("")
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;background:#f6f4f1;margin:0}
main{max-width:860px;margin:24px auto;background:#fff;padding:32px 40px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{color:#7c4a1e;margin:0 0 4px}h2{font-size:15px;margin:28px 0 8px}table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:right;font-variant-numeric:tabular-nums}th:first-child,td:first-child{text-align:left}
.muted{color:#6b7280}</style></head>
<body><main>
<h1>${esc(title)}</h1><div class="muted">Monthly recurring revenue at each month end, USD</div>
<h2>MRR</h2>
<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="MRR over time">${grid}<path d="${line}" fill="none" stroke="#7c4a1e" stroke-width="3"/>${months.map((m, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(m.mrr).toFixed(1)}" r="3.5" fill="#7c4a1e"><title>${esc(m.month)} ${dollars(m.mrr)}</title></circle>`).join("")}${labels}</svg>
<h2>New and churned MRR</h2>
<svg viewBox="0 0 ${w} 220" width="100%" role="img" aria-label="MRR movements"><line x1="${pad}" x2="${w - pad}" y1="120" y2="120" stroke="#9ca3af"/>${bars}<text x="${pad}" y="20" font-size="12" fill="#15803d">■ new</text><text x="${pad + 60}" y="20" font-size="12" fill="#b91c1c">■ churned</text></svg>
<h2>By month</h2>
<table><tr><th>Month</th><th>MRR</th><th>ARR</th><th>Subscribers</th><th>New</th><th>Churned</th></tr>
${months.map((m) => `<tr><td>${esc(m.month)}</td><td>${dollars(m.mrr)}</td><td>${dollars(m.mrr * 12)}</td><td>${m.subscribers}</td><td>${dollars(m.newMrr)}</td><td>${dollars(m.churnedMrr)}</td></tr>`).join("\n")}
</table></main></body></html>
`
}
