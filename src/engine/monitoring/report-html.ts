/**
 * A monitor report as one self-contained HTML page: inline styles, inline SVG histograms, one
 * small inline script (a "drifted only" filter) and nothing fetched, so it opens from a file:// URL
 * with no network and reads the same without JavaScript. Every value from the data is escaped.
 */
import { escapeHtml } from '../../core/html.js';
import type { FeatureHistogram } from './feature-histograms.js';
import type { MonitorReport } from './monitor-report.js';
import type { DataQualityReport, FeatureQuality } from '../../monitor/data-quality.js';
import type { FeatureDrift } from '../../monitor/drift.js';
import type { ClassificationMetrics, RegressionMetrics } from '../../monitor/quality.js';

const esc = escapeHtml;

/** A number for people: integers whole, tiny p-values in exponent form, the rest to 4 significant digits. */
function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

const STYLE = `
:root{--ink:#1d2330;--muted:#5b6473;--line:#d9dde5;--ref:#9aa3b2;--cur:#2f6fdf;--bad:#c62828;--bad-bg:#fdecea;--ok:#2e7d32}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);margin:0 auto;padding:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
p.meta,p.note{color:var(--muted);margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:160px}
.card b{display:block;font-size:20px}.card.bad{border-color:var(--bad);background:var(--bad-bg)}.card.bad b{color:var(--bad)}
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;vertical-align:middle}
th:first-child,td:first-child{text-align:left}thead th{background:#f4f6f9;position:sticky;top:0}
tr.drifted td{background:var(--bad-bg)}tr.drifted td:first-child{border-left:3px solid var(--bad)}
td.yes{color:var(--bad);font-weight:600}td.no{color:var(--ok)}tr.issue td{background:#fff8e1}
svg.hist{display:block}svg.hist .r{fill:var(--ref)}svg.hist .c{fill:var(--cur)}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
table.cm td{text-align:center;min-width:2.5em}table.cm td.diag{font-weight:600;outline:1px solid var(--ok)}
`;

const SCRIPT = `
(function(){var t=document.querySelector('[data-testid="drift-table"]');if(!t)return;
var l=document.createElement('label');var c=document.createElement('input');c.type='checkbox';
l.appendChild(c);l.appendChild(document.createTextNode(' show drifted features only'));t.parentNode.insertBefore(l,t);
c.addEventListener('change',function(){var rows=t.querySelectorAll('tbody tr');for(var i=0;i<rows.length;i++){
rows[i].style.display=c.checked&&rows[i].getAttribute('data-drifted')!=='true'?'none':'';}});})();
`;

const HIST_W = 180;
const HIST_H = 44;

/** Reference (grey) and current (blue) shares side by side, one pair of bars per bin or category. */
function histogramSvg(name: string, h: FeatureHistogram | undefined): string {
  if (!h || h.reference.length === 0) return '—';
  const bins = h.reference.length;
  const top = Math.max(...h.reference, ...h.current, 1e-9);
  const w = HIST_W / bins;
  const bars: string[] = [];
  for (let i = 0; i < bins; i++) {
    const label =
      h.kind === 'numeric' && h.edges
        ? `${fmt(h.edges[i])} to ${fmt(h.edges[i + 1])}`
        : (h.categories?.[i] ?? String(i));
    const r = h.reference[i] ?? 0;
    const c = h.current[i] ?? 0;
    const rh = (r / top) * (HIST_H - 2);
    const ch = (c / top) * (HIST_H - 2);
    bars.push(
      `<g><title>${esc(label)}: reference ${pct(r)}, current ${pct(c)}</title>` +
        `<rect x="${(i * w + 1).toFixed(1)}" y="${(HIST_H - rh).toFixed(1)}" width="${(w / 2 - 1).toFixed(1)}" height="${rh.toFixed(1)}" class="r"/>` +
        `<rect x="${(i * w + w / 2).toFixed(1)}" y="${(HIST_H - ch).toFixed(1)}" width="${(w / 2 - 1).toFixed(1)}" height="${ch.toFixed(1)}" class="c"/></g>`,
    );
  }
  return `<svg class="hist" width="${HIST_W}" height="${HIST_H}" viewBox="0 0 ${HIST_W} ${HIST_H}" role="img" aria-label="${esc(`shares of ${name}: reference vs current`)}">${bars.join('')}</svg>`;
}

function driftRow(f: FeatureDrift, histogram: FeatureHistogram | undefined): string {
  const verdict =
    f.skipped_reason !== null
      ? `<td class="skip">not tested: ${esc(f.skipped_reason)}</td>`
      : `<td class="${f.drifted ? 'yes' : 'no'}">${f.drifted ? 'yes' : 'no'}</td>`;
  return (
    `<tr data-feature="${esc(f.name)}" data-drifted="${f.drifted}"${f.drifted ? ' class="drifted"' : ''}>` +
    `<td>${esc(f.name)}</td><td>${esc(f.column_type)}</td><td>${esc(f.stattest)}</td><td>${fmt(f.statistic)}</td><td>${fmt(f.p_value)}</td>` +
    `<td>${fmt(f.threshold)}</td><td>${fmt(f.psi)}${f.psi_band ? ` (${esc(f.psi_band)})` : ''}</td>${verdict}<td>${histogramSvg(f.name, histogram)}</td></tr>`
  );
}

const DRIFT_HEAD =
  '<thead><tr><th>column</th><th>type</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th><th>PSI</th><th>drifted</th><th>reference vs current</th></tr></thead>';

function driftSection(r: MonitorReport): string {
  const d = r.drift;
  const out = ['<section id="drift"><h2>Drift</h2>'];
  if (!d) {
    out.push(`<p class="note">${esc(r.drift_note ?? 'drift was not computed')}</p></section>`);
    return out.join('\n');
  }
  const tests = [...new Set(d.features.map((f) => f.stattest))].join(', ');
  out.push(
    `<p>${d.number_of_drifted} of ${d.number_of_tested} tested features drifted (share ${fmt(d.drifted_share)}; the data set drifts from ${fmt(d.drift_share_threshold)}). ` +
      `Tests: ${esc(tests)} — p-value tests drift when p &lt; threshold, distances when statistic ≥ threshold.</p>`,
    '<p class="legend">bars: <span style="background:var(--ref)"></span>reference <span style="background:var(--cur)"></span>current (share of rows per bin)</p>',
  );
  const order = [...d.features].sort((a, b) => Number(b.drifted) - Number(a.drifted));
  out.push(
    `<table data-testid="drift-table">${DRIFT_HEAD}<tbody>`,
    ...order.map((f) => driftRow(f, r.histograms?.[f.name])),
    '</tbody></table>',
  );
  if (d.prediction) {
    out.push(
      '<h3>Prediction drift</h3><p class="note">the reference\'s target against the model\'s predictions on the current rows</p>',
      `<table data-testid="prediction-drift">${DRIFT_HEAD}<tbody>${driftRow(d.prediction, undefined)}</tbody></table>`,
    );
  }
  if (d.extra_columns.length > 0)
    out.push(`<p class="note">ignored current columns: ${esc(d.extra_columns.join(', '))}</p>`);
  out.push('</section>');
  return out.join('\n');
}

function hasIssue(f: FeatureQuality): boolean {
  return f.column_missing || f.missing > 0 || f.type_errors > 0 || f.out_of_range > 0 || f.unseen > 0;
}

function count(n: number, share: number): string {
  return n === 0 ? '0' : `${n} (${pct(share)})`;
}

function dataQualitySection(q: DataQualityReport | null, note: string | null): string {
  if (!q)
    return `<section id="data-quality"><h2>Data quality</h2><p class="note">${esc(note ?? 'data quality was not computed')}</p></section>`;
  const issues = q.features.filter(hasIssue).length;
  const rows = q.features.map(
    (f) =>
      `<tr data-feature="${esc(f.name)}"${hasIssue(f) ? ' class="issue"' : ''}><td>${esc(f.name)}</td><td>${esc(f.column_type)}</td>` +
      `<td>${f.column_missing ? 'column missing' : count(f.missing, f.missing_share)}</td><td>${count(f.type_errors, f.type_error_share)}</td>` +
      `<td>${count(f.out_of_range, f.out_of_range_share)}</td><td>${fmt(f.reference_min)} to ${fmt(f.reference_max)}</td>` +
      `<td>${count(f.unseen, f.unseen_share)}${f.unseen_categories.length > 0 ? ` — ${esc(f.unseen_categories.slice(0, 5).map(String).join(', '))}` : ''}</td></tr>`,
  );
  return [
    '<section id="data-quality"><h2>Data quality</h2>',
    `<p>${q.rows} current rows against ${q.reference_rows} reference rows; ${issues} of ${q.features.length} features with missing, mistyped, out-of-range or unseen values.</p>`,
    '<table data-testid="data-quality-table"><thead><tr><th>feature</th><th>type</th><th>missing</th><th>type errors</th><th>out of range</th><th>reference range</th><th>unseen categories</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></section>',
  ].join('\n');
}

function metricRows(pairs: [string, number | null | undefined][]): string {
  return pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr data-metric="${esc(k)}"><td>${esc(k)}</td><td>${fmt(v)}</td></tr>`)
    .join('');
}

function confusionMatrix(m: number[][], classes: readonly string[] | null): string {
  const name = (i: number): string => esc(classes?.[i] ?? String(i));
  const top = Math.max(1, ...m.flat());
  const head = `<tr><th>true ↓ / predicted →</th>${m.map((_, j) => `<th>${name(j)}</th>`).join('')}</tr>`;
  const body = m.map(
    (row, i) =>
      `<tr><th>${name(i)}</th>${row
        .map(
          (n, j) =>
            `<td${i === j ? ' class="diag"' : ''} style="background:rgba(47,111,223,${((0.6 * n) / top).toFixed(3)})">${n}</td>`,
        )
        .join('')}</tr>`,
  );
  return `<table class="cm" data-testid="confusion-matrix"><thead>${head}</thead><tbody>${body.join('')}</tbody></table>`;
}

function qualitySection(r: MonitorReport): string {
  const out = ['<section id="quality" data-testid="quality"><h2>Quality</h2>'];
  const q = r.quality;
  if (!q) {
    out.push(`<p class="note">${esc(r.quality_note ?? 'quality was not computed')}</p></section>`);
    return out.join('\n');
  }
  out.push(
    `<p>${r.labelled} labelled rows (ground truth: column '${esc(r.current.target ?? '')}' of the current file).</p>`,
  );
  if ('accuracy' in q) {
    const c = q as ClassificationMetrics;
    out.push(
      `<table data-testid="quality-metrics"><tbody>${metricRows([
        ['accuracy', c.accuracy],
        ['precision (macro)', c.precision_macro],
        ['recall (macro)', c.recall_macro],
        ['F1 (macro)', c.f1_macro],
        ['F1 (weighted)', c.f1_weighted],
        ['ROC AUC', c.roc_auc],
        ['ROC AUC (one vs rest)', c.roc_auc_ovr],
        ['log loss', c.log_loss],
      ])}</tbody></table>`,
      '<h3>Confusion matrix</h3>',
      confusionMatrix(c.confusion_matrix, r.classes),
    );
  } else {
    const g = q as RegressionMetrics;
    out.push(
      `<table data-testid="quality-metrics"><tbody>${metricRows([
        ['MAE', g.mae],
        ['RMSE', g.rmse],
        ['R²', g.r2],
        ['MAPE', g.mape],
      ])}</tbody></table>`,
    );
  }
  out.push('</section>');
  return out.join('\n');
}

function card(title: string, value: string, bad: boolean): string {
  return `<div class="card${bad ? ' bad' : ''}">${esc(title)}<b>${esc(value)}</b></div>`;
}

function summary(r: MonitorReport): string {
  const cards: string[] = [];
  const d = r.drift;
  if (d) {
    cards.push(card('data set drift', d.dataset_drift ? 'YES' : 'no', d.dataset_drift));
    cards.push(
      card('drifted features', `${d.number_of_drifted} of ${d.number_of_tested}`, d.number_of_drifted > 0),
    );
    if (d.prediction)
      cards.push(card('prediction drift', d.prediction.drifted ? 'YES' : 'no', d.prediction.drifted));
  }
  const q = r.quality;
  if (q && 'accuracy' in q) cards.push(card('accuracy', q.accuracy === null ? '—' : pct(q.accuracy), false));
  else if (q && 'rmse' in q) cards.push(card('RMSE', fmt(q.rmse), false));
  return `<div class="cards" data-testid="summary">${cards.join('')}</div>`;
}

/** The whole report page (a complete HTML document). */
export function monitorReportHtml(r: MonitorReport): string {
  const title = `${r.model} version ${r.version}`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may load from anywhere: the page is whole as it is.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>tend report: ${esc(title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<header><h1>Monitor report: ${esc(title)}</h1>`,
    `<p class="meta">reference: ${esc(r.reference.source)} (${r.reference.rows} rows${r.reference.target ? `, target '${esc(r.reference.target)}'` : ''})</p>`,
    `<p class="meta">current: ${esc(r.current.source)} (${r.current.rows} rows) · task: ${esc(r.task)} · generated ${esc(r.generated_at)} by tend</p></header>`,
    summary(r),
    driftSection(r),
    dataQualitySection(r.data_quality, r.drift_note),
    qualitySection(r),
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
