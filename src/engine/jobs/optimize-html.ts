/** The validation report of an optimization as an HTML section (self-contained: inline styles only). */
import { escapeHtml } from '../../core/html.js';
import type { OptimizeReport, SideReport } from './optimize-report.js';

const esc = escapeHtml;

const num = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(digits);

function row(label: string, parent: string, candidate: string, ratio: string): string {
  return `<tr><th>${esc(label)}</th><td>${esc(parent)}</td><td>${esc(candidate)}</td><td>${esc(ratio)}</td></tr>`;
}

function speed(s: SideReport, which: 'batch1' | 'best_batch'): string {
  const f = s[which];
  if (!f) return '—';
  const size = which === 'best_batch' && s.best_batch ? ` (batch ${s.best_batch.size})` : '';
  return `${num(f.items_per_s, 1)} items/s, p50 ${num(f.p50_ms)} ms, p99 ${num(f.p99_ms)} ms${size}`;
}

/** One `<section>` with the parent-vs-candidate table, the quality figures and the verdict. */
export function optimizeReportHtml(r: OptimizeReport): string {
  const verdict = r.registered ? `registered as version ${r.version}` : 'not registered';
  return [
    `<section class="tend-optimize" style="font-family:system-ui,sans-serif;max-width:60em">`,
    `<h2>${esc(r.name)}: ${esc(r.method)} of version ${r.parent.version ?? '—'} — ${esc(verdict)}</h2>`,
    `<p>${esc(r.reason)}</p>`,
    `<table style="border-collapse:collapse" border="1" cellpadding="4">`,
    `<tr><th></th><th>parent</th><th>candidate</th><th>candidate ÷ parent</th></tr>`,
    row('file size', `${r.parent.size_bytes} B`, `${r.candidate.size_bytes} B`, num(r.size_ratio)),
    row('load time', `${num(r.parent.load_ms, 1)} ms`, `${num(r.candidate.load_ms, 1)} ms`, ''),
    row('batch 1', speed(r.parent, 'batch1'), speed(r.candidate, 'batch1'), num(r.speedup_batch1, 2)),
    row(
      'best batch',
      speed(r.parent, 'best_batch'),
      speed(r.candidate, 'best_batch'),
      num(r.speedup_best, 2),
    ),
    row('accuracy', num(r.parent.accuracy, 4), num(r.candidate.accuracy, 4), ''),
    `</table>`,
    `<p>Evaluation: ${esc(r.evaluation.source)}${r.evaluation.synthetic ? ' (generated from the signature: agreement only)' : ''}, ${r.evaluation.rows} rows, ${r.evaluation.labelled} labelled. ` +
      `Top-1 agreement ${num(r.agreement, 4)}, mean cosine ${num(r.mean_cosine, 6)}, max abs diff ${num(r.max_abs_diff, 6)}, mean abs diff ${num(r.mean_abs_diff, 6)}.</p>`,
    `<p>Speed: ${esc(r.speed_gate)}. ${esc(r.speed_by_batch.map((b) => `batch ${b.batch}: ${num(b.parent_items_per_s, 1)} → ${num(b.candidate_items_per_s, 1)} items/s (${num(b.ratio, 2)}×)`).join('; '))}</p>`,
    ...r.notes.map((n) => `<p>${esc(n)}</p>`),
    `<p>Fused kernels: ${esc(r.fused_kernels.join(', ') || 'none')}.${r.quantized_nodes === null ? '' : ` Quantized nodes: ${r.quantized_nodes}; left in float: ${r.skipped_nodes.length}.`}</p>`,
    `</section>`,
  ].join('\n');
}
