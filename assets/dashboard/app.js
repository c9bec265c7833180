/*
 * tend's live dashboard: plain browser JavaScript, no build step. It reads the server's JSON
 * (/api/v1/dashboard/*, /v2/models/{m}/monitor, /api/v1/alerts) every few seconds and draws it
 * with uPlot (the global `uPlot`, served from node_modules). The view lives in the URL hash
 * (#model=digits&version=1&window=15m) so reloads, links and back/forward restore it.
 */
/* global document, window, location, history, fetch, performance, setTimeout, clearTimeout */
/* global URLSearchParams, Node, uPlot, sessionStorage */

const REFRESH_MS = 5000;
const BUCKETS = 60;
const CHART_HEIGHT = 180;
const WINDOWS = { '5m': 'last 5 min', '15m': 'last 15 min', '1h': 'last hour', '6h': 'last 6 hours' };
const ROWS = ['500', '1000', 'window'];
const COLORS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];
const CLASSIFICATION_KEYS = [
  ['accuracy', 'Accuracy', 'pct'],
  ['precision_macro', 'Precision (macro)', 'pct'],
  ['recall_macro', 'Recall (macro)', 'pct'],
  ['f1_macro', 'F1 (macro)', 'pct'],
  ['f1_weighted', 'F1 (weighted)', 'pct'],
  ['roc_auc_ovr', 'ROC AUC (one vs rest)', 'num'],
  ['log_loss', 'Log loss', 'num'],
];
const REGRESSION_KEYS = [
  ['mae', 'MAE', 'num'],
  ['rmse', 'RMSE', 'num'],
  ['r2', 'R²', 'num'],
  ['mape', 'MAPE', 'pct'],
];

const state = { model: null, version: null, window: '15m', rows: '500', notice: '' };
let models = [];
let timer = 0;
let generation = 0;
let firstChart = false;
/** uPlot instances by chart name, with the key of their series: same key → setData, else rebuild. */
const charts = new Map();
/** The JSON last drawn per panel: an unchanged answer leaves the DOM (and the reader's scroll) alone. */
const drawn = new Map();

const $ = (selector) => document.querySelector(selector);
const enc = encodeURIComponent;

/** An element with attributes and children; strings always become text, never markup. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {}))
    if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  for (const c of children.flat(2))
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function escapeXml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(2);
  return String(Number(x.toFixed(digits)));
}

const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)}%`);
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');

function noData(text) {
  return h('p', { class: 'no-data', 'data-testid': 'no-data' }, text.charAt(0).toUpperCase() + text.slice(1));
}

function table(testid, caption, headers, rows) {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { 'data-testid': testid },
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((x) => h('th', { scope: 'col' }, x)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

/** Replace a panel's content, unless the data behind it did not change since the last draw. */
function fill(id, data, build) {
  const key = JSON.stringify(data);
  if (drawn.get(id) === key) return;
  drawn.set(id, key);
  $(`#${id}`).replaceChildren(...[build()].flat());
}

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// ---- the API token: asked once, kept in this tab's session storage ----

const TOKEN_KEY = 'tend-token';
let tokenPrompt = null;

/** Show the token form and resolve with what the user enters (one prompt at a time). */
function askForToken(message) {
  const form = document.getElementById('token-form');
  const error = document.getElementById('token-error');
  error.textContent = message;
  form.hidden = false;
  tokenPrompt ??= new Promise((resolve) => {
    form.addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        const token = document.getElementById('token-input').value.trim();
        sessionStorage.setItem(TOKEN_KEY, token);
        form.hidden = true;
        tokenPrompt = null;
        resolve(token);
      },
      { once: true },
    );
  });
  return tokenPrompt;
}

async function getJson(url) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url, { headers });
    const body = await res.json().catch(() => ({}));
    // 401, or 403 for a token without the read scope (RFC 6750 insufficient_scope): ask for another token.
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (res.status === 401 || (res.status === 403 && challenge.includes('insufficient_scope'))) {
      sessionStorage.removeItem(TOKEN_KEY);
      await askForToken(token ? `That token was refused: ${body.error ?? 'HTTP 401'}` : '');
      continue;
    }
    if (!res.ok) throw new ApiError(body.error ?? `HTTP ${res.status}`, res.status);
    return body;
  }
}

// ---- the view in the URL ----

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const window = p.get('window');
  const rows = p.get('rows');
  return {
    model: p.get('model'),
    version: p.get('version'),
    window: window in WINDOWS ? window : '15m',
    rows: ROWS.includes(rows) ? rows : '500',
  };
}

function hashOf(view) {
  const p = new URLSearchParams();
  if (view.model) p.set('model', view.model);
  if (view.version) p.set('version', view.version);
  p.set('window', view.window);
  if (view.rows !== '500') p.set('rows', view.rows);
  return `#${p}`;
}

/** A choice of the reader: a new history entry, so back and forward walk through the views. */
function navigate(change) {
  location.hash = hashOf({ ...state, ...change });
}

const currentModel = () => models.find((m) => m.name === state.model);

/** Fill in what the URL left out (or named wrongly) from the served models, without a new history entry. */
function settleView() {
  if (state.model !== null && !currentModel()) {
    if (models.length > 0)
      state.notice = `model '${state.model}' is not served here: showing '${models[0].name}' instead`;
    state.model = null;
  }
  if (state.model === null && models.length > 0) state.model = models[0].name;
  const model = currentModel();
  const versions = model ? model.versions.map((v) => String(v.version)) : [];
  if (state.version !== null && !versions.includes(state.version)) {
    if (model && !state.notice) state.notice = `model '${model.name}' has no version '${state.version}'`;
    state.version = null;
  }
  if (state.version === null && model) {
    const fallback = model.serving_version ?? model.versions.at(-1)?.version;
    state.version = fallback === undefined || fallback === null ? null : String(fallback);
  }
  // Also rewrites a URL with an unknown window or parameter into the view actually shown.
  if (location.hash !== hashOf(state)) history.replaceState(null, '', hashOf(state));
}

/** Each version's part in the routes ("champion", "canary 10%"...), resolving aliases. */
function rolesOf(model) {
  const roles = new Map();
  const add = (ref, label) => {
    if (ref === null || ref === undefined) return;
    const v = String(model.aliases?.[ref] ?? ref);
    roles.set(v, roles.has(v) ? `${roles.get(v)}, ${label}` : label);
  };
  const r = model.routes;
  if (r) {
    add(r.champion, 'champion');
    if (r.canary) add(r.canary.version, `canary ${r.canary.percent}%`);
    if (r.shadow) add(r.shadow.version, 'shadow');
    for (const v of r.experiment?.variants ?? []) add(v.version, `variant weight ${v.weight}`);
  } else if (model.serving_version !== null && model.serving_version !== undefined) {
    add(model.serving_version, 'serving');
  }
  return roles;
}

// ---- header and models ----

function renderPickers() {
  const modelPick = $('#pick-model');
  fill('pick-model', [models.map((m) => m.name)], () =>
    models.map((m) => h('option', { value: m.name }, m.name)),
  );
  modelPick.value = state.model ?? '';
  modelPick.disabled = models.length === 0;
  const model = currentModel();
  const roles = model ? rolesOf(model) : new Map();
  const options = model
    ? model.versions.map((v) => [String(v.version), roles.get(String(v.version)), v.state])
    : [];
  fill('pick-version', options, () =>
    options.map(([v, role, st]) => h('option', { value: v }, `${v}${role ? ` · ${role}` : ''} (${st})`)),
  );
  $('#pick-version').value = state.version ?? '';
  $('#pick-version').disabled = options.length === 0;
  $('#pick-window').value = state.window;
  $('#pick-rows').value = state.rows;
  for (const el of document.querySelectorAll('[data-window-label]'))
    el.textContent = `(${WINDOWS[state.window]})`;
  const banner = $('#banner');
  banner.hidden = !state.notice;
  banner.textContent = state.notice;
}

function routesText(model) {
  const r = model.routes;
  if (!r)
    return model.serving_version === null || model.serving_version === undefined
      ? '—'
      : `v${model.serving_version} answers (no deployment)`;
  const parts = [`champion ${r.champion}`];
  if (r.canary)
    parts.push(`canary ${r.canary.version} (${r.canary.percent}%${r.canary.policy ? ', policy' : ''})`);
  if (r.shadow) parts.push(`shadow ${r.shadow.version}`);
  if (r.experiment)
    parts.push(`experiment ${r.experiment.variants.map((v) => `${v.version}×${v.weight}`).join(' / ')}`);
  return parts.join(' · ');
}

function renderModels() {
  fill('models', [models, state.model, state.window], () => {
    if (models.length === 0)
      return noData(
        'No models are served yet: push one with `tend push model.onnx --name my-model`, or run `tend demo`.',
      );
    const rows = models.map((m) => {
      const selected = m.name === state.model;
      return h(
        'tr',
        {
          'data-testid': `model-row-${m.name}`,
          class: selected ? 'selected' : null,
          'aria-current': selected ? 'true' : null,
        },
        h(
          'th',
          { scope: 'row' },
          h('a', { href: hashOf({ ...state, model: m.name, version: null }) }, m.name),
          m.error ? h('span', { class: 'error' }, ` ${m.error}`) : null,
        ),
        h('td', {}, m.source),
        h(
          'td',
          {},
          m.versions.map((v) =>
            h(
              'span',
              { class: `badge state-${String(v.state).toLowerCase()}`, title: v.reason || v.task },
              `v${v.version} ${v.state}`,
            ),
          ),
        ),
        h(
          'td',
          {},
          Object.entries(m.aliases ?? {})
            .map(([a, v]) => `${a} → v${v}`)
            .join(', ') || '—',
        ),
        h('td', { 'data-testid': `routes-${m.name}` }, routesText(m)),
        h(
          'td',
          {},
          m.serving_version === null || m.serving_version === undefined ? '—' : `v${m.serving_version}`,
        ),
      );
    });
    return table('models-table', null, ['Model', 'Source', 'Versions', 'Aliases', 'Routes', 'Serving'], rows);
  });
}

// ---- charts ----

function chartSpecs(series, model) {
  const roles = rolesOf(model);
  const versions = series.versions;
  const name = (v) => `v${v.version}${roles.get(v.version) ? ` · ${roles.get(v.version)}` : ''}`;
  const line = (v, i, values, suffix = '', dash = undefined) => ({
    label: name(v) + suffix,
    stroke: COLORS[i % COLORS.length],
    dash,
    values,
  });
  const metric = versions.find((v) => v.quality_metric)?.quality_metric ?? null;
  const infer = `POST /v2/models/${model.name}/infer`;
  return {
    requests: {
      lines: versions.map((v, i) => line(v, i, v.requests_per_s)),
      zeroIsEmpty: true,
      empty: `No requests in this window yet: send one to ${infer}.`,
    },
    latency: {
      lines: versions.flatMap((v, i) => [line(v, i, v.p50_ms, ' p50'), line(v, i, v.p99_ms, ' p99', [6, 4])]),
      empty: `No latency yet: it comes from the logged requests (${infer}).`,
    },
    errors: {
      lines: versions.map((v, i) =>
        line(
          v,
          i,
          v.error_rate.map((x) => (x === null ? null : x * 100)),
        ),
      ),
      empty: 'No requests counted in this window yet (the counters are sampled every few seconds).',
    },
    batch: {
      lines: versions.map((v, i) => line(v, i, v.mean_batch_size)),
      empty: 'No model runs counted in this window yet.',
    },
    quality: {
      lines: versions
        .map((v, i) => (v.quality_metric ? line(v, i, v.quality, ` ${v.quality_metric}`) : null))
        .filter(Boolean),
      // Headroom above 1, so points at accuracy 1 are not half cut by the plot's edge.
      range: metric === 'accuracy' ? [0, 1.05] : null,
      label: metric ?? '',
      empty:
        metric === null
          ? 'No quality metric: the task of this model (classification or regression) is unknown.'
          : `No labelled predictions in this window yet: send ground truth to POST /v2/models/${model.name}/feedback (a time bucket needs at least 5 labels).`,
    },
  };
}

function clockTick(seconds) {
  const d = new Date(seconds * 1000);
  return d.toLocaleTimeString(
    [],
    d.getSeconds() === 0
      ? { hour: '2-digit', minute: '2-digit' }
      : { hour: '2-digit', minute: '2-digit', second: '2-digit' },
  );
}

function chartOptions(spec, width) {
  return {
    width,
    height: CHART_HEIGHT,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    // A little room right of the newest bucket, so its point is not cut in half by the edge.
    scales: {
      x: { time: true, range: (_u, min, max) => [min, max + Math.max(1, max - min) / 80] },
      y: { range: spec.range ? () => spec.range : (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    // uPlot's default time ticks stack a date under each label: a clock time reads better here.
    axes: [
      { space: 90, values: (_u, splits) => splits.map(clockTick) },
      { size: 56, label: spec.label || undefined, labelSize: spec.label ? 18 : 0 },
    ],
    // Points, not only lines: a bucket with data between empty ones has no neighbour to draw a line to.
    series: [
      {},
      ...spec.lines.map((l) => ({
        label: l.label,
        stroke: l.stroke,
        width: 1.5,
        dash: l.dash,
        points: { show: true, size: 4, fill: l.dash ? '#fff' : l.stroke },
      })),
    ],
  };
}

function drawChart(name, spec, t) {
  const panel = $(`[data-chart="${name}"]`);
  const box = panel.querySelector('.chart');
  const note = panel.querySelector('.no-data');
  const has = spec.lines.some((l) => l.values.some((x) => x !== null && !(spec.zeroIsEmpty && x === 0)));
  panel.dataset.state = has ? 'data' : 'empty';
  note.hidden = has;
  box.hidden = !has;
  if (!has) {
    note.textContent = spec.empty;
    return;
  }
  const key = JSON.stringify([spec.lines.map((l) => [l.label, l.stroke]), spec.range, spec.label]);
  const data = [t, ...spec.lines.map((l) => l.values)];
  const width = Math.max(240, box.clientWidth);
  let chart = charts.get(name);
  if (chart && chart.key !== key) {
    chart.plot.destroy();
    chart = undefined;
  }
  if (!chart) {
    charts.set(name, { key, plot: new uPlot(chartOptions(spec, width), data, box) });
    if (!firstChart) {
      firstChart = true;
      performance.mark('tend-first-chart');
    }
    return;
  }
  chart.plot.setData(data);
  if (chart.plot.width !== width) chart.plot.setSize({ width, height: CHART_HEIGHT });
}

function chartsSay(text) {
  for (const panel of document.querySelectorAll('[data-chart]'))
    drawChart(panel.dataset.chart, { lines: [], empty: text }, []);
}

function renderCharts(result, model) {
  if (typeof uPlot === 'undefined')
    return chartsSay('The charts cannot be drawn: uPlot did not load (/dashboard/uPlot.iife.min.js).');
  if (!model) return chartsSay('No model to show yet.');
  if (result.status === 'rejected') return chartsSay(`No time series: ${result.reason.message}`);
  const series = result.value;
  // uPlot's time axis counts seconds.
  const t = (series.versions[0]?.t ?? []).map((ms) => ms / 1000);
  const specs = chartSpecs(series, model);
  for (const [name, spec] of Object.entries(specs)) drawChart(name, spec, t);
}

// ---- monitor: quality, drift, data quality ----

function monitorUrl(model, version) {
  const basis = state.rows === 'window' ? `window=${state.window}` : `last=${state.rows}`;
  return `/v2/models/${enc(model)}/monitor?version=${enc(version)}&${basis}`;
}

// Drift tests need more rows than a quality figure: with 500 rows, sampling noise alone pushes the
// normed Wasserstein distance of near-constant pixels past 0.1. Drift and data quality use at least
// the server's default window (the last 1000 rows); quality keeps the chosen one.
const DRIFT_MIN_ROWS = 1000;

function driftUrl(model, version) {
  if (state.rows === 'window' || Number(state.rows) >= DRIFT_MIN_ROWS) return monitorUrl(model, version);
  return `/v2/models/${enc(model)}/monitor?version=${enc(version)}&last=${DRIFT_MIN_ROWS}`;
}

function renderQuality(m) {
  if (!m.quality) {
    if (m.predictions === 0)
      return noData(
        `No predictions yet for version ${m.version} (${m.window}): send requests to POST /v2/models/${m.model}/infer.`,
      );
    if (m.task === 'unknown')
      return noData('No quality metric: the task of this model (classification or regression) is unknown.');
    return noData(
      `No ground truth yet for the ${m.predictions} predictions (${m.window}): send labels to POST /v2/models/${m.model}/feedback with the request ids.`,
    );
  }
  const keys = m.task === 'regression' ? REGRESSION_KEYS : CLASSIFICATION_KEYS;
  const stats = keys
    .filter(([k]) => m.quality[k] !== undefined)
    .map(([k, label, kind]) =>
      h(
        'div',
        { class: 'stat', 'data-testid': `quality-${k}`, 'data-value': m.quality[k] ?? '' },
        h('span', { class: 'label' }, label),
        h('strong', {}, kind === 'pct' ? pct(m.quality[k]) : num(m.quality[k])),
      ),
    );
  const out = [
    h('p', {}, `Over ${m.labelled} labelled of ${m.predictions} predictions (${m.window}).`),
    h('div', { class: 'stats' }, stats),
  ];
  const cm = m.quality.confusion_matrix;
  if (Array.isArray(cm) && cm.length > 0 && cm.length <= 20) {
    const rows = cm.map((row, i) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, String(i)),
        row.map((n, j) => h('td', { class: n > 0 && i !== j ? 'off' : null }, String(n))),
      ),
    );
    out.push(
      h(
        'details',
        {},
        h('summary', {}, 'Confusion matrix (rows: true class, columns: predicted)'),
        table('confusion-matrix', null, ['', ...cm.map((_, j) => String(j))], rows),
      ),
    );
  }
  return out;
}

/** Reference (grey) and current (blue) shares per bin, as a small inline SVG. */
function histogram(name, hist) {
  const span = h('span', { class: 'hist' });
  if (!hist || hist.reference.length === 0) {
    span.textContent = '—';
    return span;
  }
  const W = 120;
  const H = 28;
  const n = hist.reference.length;
  const bw = W / n;
  const max = Math.max(1e-9, ...hist.reference, ...hist.current);
  let bars = '';
  for (let i = 0; i < n; i++) {
    const rh = ((hist.reference[i] ?? 0) / max) * H;
    const ch = ((hist.current[i] ?? 0) / max) * H;
    bars += `<rect class="ref" x="${(i * bw + 0.5).toFixed(1)}" y="${(H - rh).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${rh.toFixed(1)}"/>`;
    bars += `<rect class="cur" x="${(i * bw + bw * 0.3).toFixed(1)}" y="${(H - ch).toFixed(1)}" width="${(bw * 0.4).toFixed(1)}" height="${ch.toFixed(1)}"/>`;
  }
  const bins =
    hist.kind === 'categorical'
      ? (hist.categories ?? []).join(', ')
      : `${num(hist.edges?.[0])} to ${num(hist.edges?.at(-1))}`;
  const label = escapeXml(`${name}: reference (grey) vs current (blue) shares over ${bins}`);
  span.innerHTML = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}"><title>${label}</title>${bars}</svg>`;
  return span;
}

function driftRow(f, hist) {
  const pTest = f.p_value !== null && f.p_value !== undefined;
  return h(
    'tr',
    {
      'data-testid': `drift-row-${f.name}`,
      'data-drifted': String(Boolean(f.drifted)),
      class: f.drifted ? 'drifted' : null,
    },
    h('th', { scope: 'row' }, f.name),
    h('td', {}, f.column_type),
    h('td', {}, f.stattest),
    h('td', {}, num(f.statistic)),
    h('td', {}, pTest ? num(f.p_value) : '—'),
    h('td', {}, pTest ? `p < ${f.threshold}` : `≥ ${f.threshold}`),
    h('td', {}, f.psi === null ? '—' : `${num(f.psi)} ${f.psi_band ?? ''}`),
    h(
      'td',
      { class: 'flag' },
      f.skipped_reason ? `skipped: ${f.skipped_reason}` : f.drifted ? '⚠ drifted' : 'no',
    ),
    h('td', {}, histogram(f.name, hist)),
  );
}

function renderDrift(m) {
  if (!m.drift) return noData(m.drift_note ?? 'No drift report for this window.');
  const d = m.drift;
  const ref = m.reference ? ` Reference: ${m.reference.rows} rows (${m.reference.source}).` : '';
  const summary = h(
    'p',
    {
      class: d.dataset_drift ? 'summary alarm' : 'summary',
      'data-testid': 'drift-summary',
      'data-dataset-drift': String(Boolean(d.dataset_drift)),
    },
    h('strong', {}, d.dataset_drift ? 'Data set drifted. ' : 'No data set drift. '),
    `${d.number_of_drifted} of ${d.number_of_tested} features drifted (${pct(d.drifted_share)}; the data set drifts from ${pct(d.drift_share_threshold)}).${ref}`,
  );
  const p = d.prediction;
  const prediction = p
    ? h(
        'p',
        { 'data-testid': 'prediction-drift', 'data-drifted': String(Boolean(p.drifted)) },
        `Prediction: ${p.drifted ? '⚠ drifted' : 'no drift'} (${p.stattest} ${num(p.statistic)}${p.p_value !== null ? `, p = ${num(p.p_value)}` : ''}).`,
      )
    : null;
  // Drifted features first: with dozens of features they are what the reader came for.
  const features = [...d.features].sort((a, b) => Number(Boolean(b.drifted)) - Number(Boolean(a.drifted)));
  const rows = features.map((f) => driftRow(f, m.histograms?.[f.name]));
  const headers = [
    'Feature',
    'Type',
    'Test',
    'Statistic',
    'p-value',
    'Drift when',
    'PSI',
    'Drifted',
    'Reference vs current',
  ];
  return [
    summary,
    prediction,
    table('drift-table', `Drift of each feature against the reference (${m.window})`, headers, rows),
  ];
}

function dqIssues(f) {
  return (
    (f.missing ?? 0) +
    (f.out_of_range ?? 0) +
    (f.type_errors ?? 0) +
    (f.unseen ?? 0) +
    (f.column_missing ? 1 : 0)
  );
}

function renderDataQuality(m) {
  const q = m.data_quality;
  if (!q) return noData(m.drift_note ?? 'No data quality report for this window.');
  const share = (n, s) => (n > 0 ? `${n} (${pct(s)})` : '0');
  const features = [...q.features].sort((a, b) => dqIssues(b) - dqIssues(a));
  const bad = features.filter((f) => dqIssues(f) > 0).length;
  const dqRow = (f, listed = false) =>
    h(
      'tr',
      {
        'data-testid': listed ? `dq-row-${f.name}` : null,
        'data-unseen': listed && f.unseen > 0 ? f.name : null,
        class: dqIssues(f) > 0 ? 'drifted' : null,
      },
      h('th', { scope: 'row' }, f.name),
      h('td', {}, f.column_missing ? 'column missing' : share(f.missing, f.missing_share)),
      h('td', {}, share(f.out_of_range, f.out_of_range_share)),
      h('td', {}, share(f.type_errors, f.type_error_share)),
      h(
        'td',
        {},
        f.unseen > 0
          ? `${share(f.unseen, f.unseen_share)}: ${(f.unseen_categories ?? []).slice(0, 5).join(', ')}`
          : '0',
      ),
      h(
        'td',
        {},
        f.reference_min === null || f.reference_min === undefined
          ? '—'
          : `${num(f.reference_min)} to ${num(f.reference_max)}`,
      ),
    );
  const rows = features.map((f) => dqRow(f));
  const summary = h(
    'p',
    { 'data-testid': 'dq-summary' },
    bad === 0
      ? `All ${features.length} features are clean over ${q.rows} rows: nothing missing, out of range, of the wrong type or unseen.`
      : `${bad} of ${features.length} features have problems over ${q.rows} rows.`,
  );
  const headers = [
    'Feature',
    'Missing',
    'Out of reference range',
    'Wrong type',
    'Unseen categories',
    'Reference range',
  ];
  const all = h(
    'details',
    {},
    h('summary', {}, `Show all ${features.length} features`),
    table('dq-table-all', null, headers, rows),
  );
  if (bad === 0) return [summary, all];
  // Built twice: a DOM node lives in one table only.
  const problems = features.filter((f) => dqIssues(f) > 0).map((f) => dqRow(f, true));
  return [summary, table('dq-table', 'Features with problems', headers, problems), all];
}

function renderMonitor(result, model, driftResult) {
  const title = $('#monitor-title');
  if (!model || !state.version) {
    title.textContent = '';
    for (const id of ['quality', 'drift', 'data-quality'])
      fill(id, 'none', () => noData('No model version to show yet.'));
    return;
  }
  if (result.status === 'rejected') {
    title.textContent = `v${state.version}`;
    for (const id of ['quality', 'drift', 'data-quality'])
      fill(id, result.reason.message, () => noData(`No monitor data: ${result.reason.message}`));
    return;
  }
  const m = result.value;
  title.textContent = `${m.model} v${m.version} · ${m.window} · ${m.predictions} predictions, ${m.labelled} labelled`;
  fill('quality', [m.model, m.version, m.window, m.predictions, m.labelled, m.quality], () =>
    renderQuality(m),
  );
  const dm = driftResult?.status === 'fulfilled' && driftResult.value ? driftResult.value : m;
  fill('drift', [dm.drift, dm.drift_note, dm.histograms, dm.reference, dm.window], () => renderDrift(dm));
  fill('data-quality', [dm.data_quality, dm.drift_note], () => renderDataQuality(dm));
}

// ---- alerts ----

function renderAlerts(result) {
  if (result.status === 'rejected')
    return fill('alerts', result.reason.message, () => noData(`No alerts: ${result.reason.message}`));
  const { active, events } = result.value;
  fill('alerts', [active, events.slice(0, 10)], () => {
    const out = [h('h3', {}, 'Active')];
    if (active.length === 0)
      out.push(h('p', { class: 'empty', 'data-testid': 'no-alerts' }, 'No active alerts.'));
    else {
      const rows = active.map((a) =>
        h(
          'tr',
          {
            'data-testid': `alert-${a.rule}`,
            'data-state': a.state,
            class: a.state === 'firing' ? `firing sev-${a.severity}` : 'pending',
          },
          h('th', { scope: 'row' }, a.rule),
          h('td', {}, a.state),
          h('td', {}, a.severity),
          h(
            'td',
            {},
            h(
              'a',
              {
                href: hashOf({
                  ...state,
                  model: a.model,
                  version: /^\d+$/.test(a.version) ? a.version : null,
                }),
              },
              `${a.model} v${a.version}`,
            ),
          ),
          h('td', {}, `${a.metric} ${num(a.value)} ${a.op} ${a.threshold}`),
          h('td', {}, `${a.samples} over ${a.window}`),
          h(
            'td',
            {},
            a.state === 'firing'
              ? `firing since ${clock(a.fired_at)}`
              : `pending since ${clock(a.active_at)}`,
          ),
        ),
      );
      out.push(
        table(
          'alerts-active',
          null,
          ['Rule', 'State', 'Severity', 'Model', 'Condition (value op threshold)', 'Samples', 'Since'],
          rows,
        ),
      );
    }
    out.push(h('h3', {}, 'Recent events'));
    if (events.length === 0) out.push(h('p', { class: 'empty' }, 'No alert has fired yet.'));
    else
      out.push(
        h(
          'ul',
          { class: 'events', 'data-testid': 'alert-events' },
          events
            .slice(0, 10)
            .map((e) =>
              h(
                'li',
                { class: e.state },
                h('time', { datetime: e.at }, clock(e.at)),
                ` ${e.state} `,
                h('strong', {}, e.rule),
                ` — ${e.message ?? `${e.model} v${e.version}`}`,
              ),
            ),
        ),
      );
    return out;
  });
}

// ---- explanations (on demand: each one runs the model some 100 000 times) ----

const EXPLAIN_ROWS = 5;

/** Horizontal bars of the `limit` largest |values|, signed (orange below zero). */
function bars(testid, names, values, limit) {
  const order = values
    .map((_, j) => j)
    .sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]))
    .slice(0, limit);
  const max = Math.max(1e-12, ...order.map((j) => Math.abs(values[j])));
  return h(
    'div',
    { class: 'bars', 'data-testid': testid },
    order.map((j) =>
      h(
        'div',
        { class: 'bar-row', 'data-testid': 'bar' },
        h('span', { class: 'bar-name', title: names[j] }, names[j] ?? `feature ${j}`),
        h(
          'span',
          { class: 'bar-track' },
          h('span', {
            class: values[j] < 0 ? 'bar neg' : 'bar',
            style: `width:${((100 * Math.abs(values[j])) / max).toFixed(1)}%`,
          }),
        ),
        h('span', { class: 'bar-value' }, num(values[j])),
      ),
    ),
  );
}

/** 64 values as the 8×8 image they describe (digits): blue positive, orange negative. */
function heatmap(testid, values) {
  const max = Math.max(1e-12, ...values.map(Math.abs));
  return h(
    'div',
    { class: 'heatmap', 'data-testid': testid, role: 'img', 'aria-label': 'attributions as an 8×8 image' },
    values.map((v, j) =>
      h('span', {
        class: 'cell',
        title: `row ${Math.floor(j / 8)}, column ${j % 8}: ${num(v)}`,
        style: `background:rgba(${v < 0 ? '217,119,6' : '37,99,235'},${(Math.abs(v) / max).toFixed(3)})`,
      }),
    ),
  );
}

function renderExplanation(r) {
  const out = [];
  for (const o of r.outputs ?? []) {
    const total = r.feature_names.map((_, j) => o.importance.reduce((s, perClass) => s + perClass[j], 0));
    const square = total.length === 64;
    out.push(
      h('h3', {}, `Mean |SHAP| of ${o.name} over the newest ${r.rows} predictions (all classes)`),
      h(
        'div',
        { class: 'explain-global' },
        bars('explain-global', r.feature_names, total, 12),
        square ? heatmap('heatmap-global', total) : null,
      ),
      h('h3', {}, 'Each prediction: the attributions of its top class'),
      h(
        'div',
        { class: 'explain-rows' },
        o.explained.map((e) =>
          h(
            'figure',
            { class: 'panel', 'data-testid': 'explain-row' },
            h('figcaption', {}, `${e.request_id} row ${e.row} → ${o.name} ${e.class}`),
            bars('explain-bars', r.feature_names, e.attributions, 8),
            square ? heatmap('heatmap', e.attributions) : null,
          ),
        ),
      ),
    );
  }
  out.push(h('p', { class: 'muted' }, `computed in ${num(r.seconds, 2)} s`));
  return out;
}

async function explainNow() {
  const model = currentModel();
  const box = $('#explain');
  if (!model || !state.version) {
    box.replaceChildren(noData('pick a model version first'));
    return;
  }
  box.replaceChildren(h('p', { class: 'muted', 'data-testid': 'explain-busy' }, 'explaining…'));
  try {
    const r = await getJson(
      `/v2/models/${enc(model.name)}/importance?method=mean_abs_shap&rows=${EXPLAIN_ROWS}&version=${enc(state.version)}`,
    );
    box.replaceChildren(...renderExplanation(r));
  } catch (e) {
    box.replaceChildren(noData(`no explanation: ${e.message}`));
  }
}

// ---- the refresh loop ----

async function refresh() {
  clearTimeout(timer);
  const run = ++generation;
  try {
    const list = await getJson('/api/v1/dashboard/models');
    if (run !== generation) return;
    models = list.models ?? [];
    settleView();
    renderPickers();
    renderModels();
    const model = currentModel();
    const none = Promise.resolve(null);
    const separateDrift =
      model && state.version && driftUrl(model.name, state.version) !== monitorUrl(model.name, state.version);
    const [series, monitor, alerts, drift] = await Promise.allSettled([
      model
        ? getJson(
            `/api/v1/dashboard/models/${enc(model.name)}/series?window=${state.window}&buckets=${BUCKETS}`,
          )
        : none,
      model && state.version ? getJson(monitorUrl(model.name, state.version)) : none,
      getJson('/api/v1/alerts'),
      separateDrift ? getJson(driftUrl(model.name, state.version)) : none,
    ]);
    if (run !== generation) return;
    renderCharts(series, model);
    renderMonitor(monitor, model, drift);
    renderAlerts(alerts);
    const status = $('#status');
    status.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    status.classList.remove('down');
  } catch (e) {
    const status = $('#status');
    status.textContent = `cannot reach the server (${e.message}): retrying every ${REFRESH_MS / 1000} s`;
    status.classList.add('down');
  } finally {
    if (run === generation) timer = setTimeout(refresh, REFRESH_MS);
  }
}

function applyHash() {
  const view = readHash();
  state.model = view.model;
  state.version = view.version;
  state.window = view.window;
  state.rows = view.rows;
  state.notice = '';
}

$('#pick-model').addEventListener('change', (e) => navigate({ model: e.target.value, version: null }));
$('#pick-version').addEventListener('change', (e) => navigate({ version: e.target.value }));
$('#pick-window').addEventListener('change', (e) => navigate({ window: e.target.value }));
$('#pick-rows').addEventListener('change', (e) => navigate({ rows: e.target.value }));
$('#view').addEventListener('submit', (e) => e.preventDefault());
$('#explain-run').addEventListener('click', () => void explainNow());
window.addEventListener('hashchange', () => {
  $('#explain').replaceChildren();
  applyHash();
  renderPickers();
  void refresh();
});
window.addEventListener('resize', () => {
  for (const { plot } of charts.values()) {
    const width = Math.max(240, plot.root.parentElement.clientWidth);
    if (width !== plot.width) plot.setSize({ width, height: CHART_HEIGHT });
  }
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh();
});

applyHash();
void refresh();
