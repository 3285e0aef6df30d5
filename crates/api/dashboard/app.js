// PPE Depot dashboard: a thin client of the JSON API (/api/v1), no build step.
// Views are rendered from the same operations a script would call; the token's own
// permissions (GET /api/v1/me) decide what is offered.

const TEXT = {
  en: {
    signin: 'Sign in', token: 'API token', tokenHelp: 'Paste the token you were given. It is kept in this browser tab only.',
    signout: 'Sign out', overview: 'Overview', map: 'Map', accuracy: 'Accuracy', report: 'Stock report',
    municipality: 'Municipality', district: 'District', category: 'Category', unit: 'Unit', site: 'Site', item: 'Item',
    red: 'Red', amber: 'Amber', green: 'Green', no_demand: 'No demand',
    riskiest: 'Units at risk', onHand: 'On hand', inTransit: 'In transit', dos: 'Days of supply (q10 / q50 / q90)',
    risk: 'Stockout risk', suggested: 'Suggested order', band: 'Band', updated: 'Forecasts computed',
    download: 'Download', csv: 'CSV', xlsx: 'Excel', loading: 'Loading…', none: 'Nothing here.',
    balances: 'Balances', lot: 'Lot', expires: 'Expires', quantity: 'Quantity', ledger: 'Ledger (last 30 days, newest first)',
    kind: 'Kind', when: 'When', by: 'By', use: 'Daily use and forecast', stockRun: 'Stock position',
    reported: 'reported', inferred: 'inferred', censored: 'stocked out (censored)', forecastFan: 'forecast q10–q90',
    median: 'median', stock: 'stock', heldAt: 'Where it is held', pooled: 'Days of supply (pooled)',
    units: 'Units', burn: 'Use per day', summary: 'Summary', series: 'Series', mase: 'MASE', rmsse: 'RMSSE',
    coverage: 'Interval coverage', nominal: 'nominal', methods: 'Methods', history: 'History days',
    lastCount: 'Now', counted: 'Counted', reportedBy: 'Your name', submit: 'Send report',
    sent: 'Report saved.', resend: 'Not sent (connection?). Press send again: it is safe to repeat.',
    fixFields: 'Some fields need attention.', notANumber: 'Not a number.', notAllowed: 'Your token may not do this.',
    chooseUnit: 'Choose a unit', plan: 'Delivery plan', route: 'Route', noPlan: 'No delivery plan yet.',
    sites: 'sites', worst: 'worst band', date: 'Date', notFound: 'Not found.',
    error: 'Something went wrong', signedInAs: 'Signed in as',
  },
  nb: {
    signin: 'Logg inn', token: 'API-nøkkel', tokenHelp: 'Lim inn nøkkelen du har fått. Den lagres bare i denne fanen.',
    signout: 'Logg ut', overview: 'Oversikt', map: 'Kart', accuracy: 'Treffsikkerhet', report: 'Varetelling',
    municipality: 'Kommunen', district: 'Bydel', category: 'Kategori', unit: 'Enhet', site: 'Sted', item: 'Vare',
    red: 'Rød', amber: 'Gul', green: 'Grønn', no_demand: 'Ikke i bruk',
    riskiest: 'Enheter i faresonen', onHand: 'På lager', inTransit: 'Underveis', dos: 'Dager med lager (q10 / q50 / q90)',
    risk: 'Risiko for tomt lager', suggested: 'Foreslått bestilling', band: 'Nivå', updated: 'Prognoser beregnet',
    download: 'Last ned', csv: 'CSV', xlsx: 'Excel', loading: 'Laster …', none: 'Ingenting her.',
    balances: 'Beholdning', lot: 'Parti', expires: 'Utløper', quantity: 'Antall', ledger: 'Bevegelser (siste 30 dager, nyeste først)',
    kind: 'Type', when: 'Når', by: 'Av', use: 'Daglig forbruk og prognose', stockRun: 'Lagerutvikling',
    reported: 'rapportert', inferred: 'beregnet', censored: 'tomt lager (sensurert)', forecastFan: 'prognose q10–q90',
    median: 'median', stock: 'lager', heldAt: 'Hvor varen finnes', pooled: 'Dager med lager (samlet)',
    units: 'Enheter', burn: 'Forbruk per dag', summary: 'Sammendrag', series: 'Serier', mase: 'MASE', rmsse: 'RMSSE',
    coverage: 'Intervalldekning', nominal: 'nominell', methods: 'Metoder', history: 'Dager med historikk',
    lastCount: 'Nå', counted: 'Telt', reportedBy: 'Ditt navn', submit: 'Send telling',
    sent: 'Tellingen er lagret.', resend: 'Ikke sendt (nettverk?). Trykk send igjen: det er trygt å gjenta.',
    fixFields: 'Noen felt må rettes.', notANumber: 'Ikke et tall.', notAllowed: 'Nøkkelen din har ikke lov til dette.',
    chooseUnit: 'Velg enhet', plan: 'Leveranseplan', route: 'Rute', noPlan: 'Ingen leveranseplan ennå.',
    sites: 'steder', worst: 'verste nivå', date: 'Dato', notFound: 'Finnes ikke.',
    error: 'Noe gikk galt', signedInAs: 'Logget inn som',
  },
};

/** Item categories and movement kinds as the API names them, in each language. */
const NAMES = {
  en: {
    mask: 'Masks', respirator: 'Respirators', gloves: 'Gloves', gown: 'Gowns', apron: 'Aprons',
    eye_protection: 'Eye protection', hand_hygiene: 'Hand hygiene', disinfectant: 'Disinfectant', other: 'Other',
    receipt: 'Receipt', issue: 'Use', count_adjustment: 'Count', transfer_out: 'Sent', transfer_in: 'Received',
    discard: 'Discarded', transfer_return: 'Returned',
  },
  nb: {
    mask: 'Munnbind', respirator: 'Åndedrettsvern', gloves: 'Hansker', gown: 'Frakker', apron: 'Forklær',
    eye_protection: 'Øyevern', hand_hygiene: 'Håndhygiene', disinfectant: 'Desinfeksjon', other: 'Annet',
    receipt: 'Mottak', issue: 'Forbruk', count_adjustment: 'Telling', transfer_out: 'Sendt', transfer_in: 'Mottatt',
    discard: 'Kassert', transfer_return: 'Returnert',
  },
};
/** The name of an API code in the chosen language (the code itself when unknown). */
const named = (code) => NAMES[state.lang][code] ?? code;

const BANDS = ['red', 'amber', 'green', 'no_demand'];
const BAND_RANK = { red: 0, amber: 1, green: 2, no_demand: 3 };
const POLL_MS = 20000;

const state = {
  token: sessionStorage.getItem('ppe.token'),
  me: null,
  lang: localStorage.getItem('ppe.lang') || (/^(nb|no|nn)\b/i.test(navigator.language || '') ? 'nb' : 'en'),
  timer: null,
  /** Counts navigations: a view that finishes after the next one began shows nothing. */
  gen: 0,
};

const t = (k) => TEXT[state.lang][k] ?? TEXT.en[k] ?? k;
const locale = () => (state.lang === 'nb' ? 'nb-NO' : 'en-GB');
const num = (x, digits = 0) =>
  x == null || Number.isNaN(x) ? '–' : new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(x);
const pct = (x) => (x == null ? '–' : new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(x));
const day = (iso) =>
  iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(iso.slice(0, 10) + 'T00:00:00Z')) : '–';
const stamp = (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso)) : '–');
const may = (p) => !!state.me && state.me.permissions.includes(p);
/** A token limited to some sites must name one on list operations: a list of rows is
 *  then asked for once per site and the rows joined. */
const withSite = (path, site) => `${path}${path.includes('?') ? '&' : '?'}site=${encodeURIComponent(site)}`;
async function scopedRows(path) {
  if (!state.me.sites) return api(path);
  return (await Promise.all(state.me.sites.map((x) => api(withSite(path, x))))).flat();
}

// ---- elements -------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  return fill(el, attrs, children);
}
function s(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  return fill(el, attrs, children);
}
function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const view = () => document.getElementById('view');
function show(...nodes) {
  view().replaceChildren(...nodes);
}
/** Shows a view's nodes unless the user has gone elsewhere since the view began. */
function showAt(gen, ...nodes) {
  if (gen === state.gen) show(...nodes);
  return gen === state.gen;
}
const bandTag = (b) => h('span', { class: `band band-${b}` }, t(b));
const siteLink = (code, name) => h('a', { href: `#/site/${encodeURIComponent(code)}` }, name || code);
const itemLink = (sku) => h('a', { href: `#/item/${encodeURIComponent(sku)}` }, sku);

/** Puts each row's identity on its <tr> (data-* attributes), for links and tests. */
function tagRows(tbl, rows, data) {
  [...tbl.tBodies[0].rows].forEach((tr, i) => rows[i] && Object.assign(tr.dataset, data(rows[i])));
  return tbl;
}

function table(columns, rows, attrs = {}) {
  return h('table', attrs,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length }, t('none')))
      : rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))))),
  );
}

// ---- the API --------------------------------------------------------------------------

class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function api(path, init = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${state.token}`, ...(init.headers || {}) };
  const r = await fetch(`/api/v1${path}`, { ...init, headers });
  const type = r.headers.get('content-type') || '';
  const body = type.includes('json') ? await r.json() : await r.text();
  if (r.status === 401) {
    signOut();
    throw new Problem(401, body);
  }
  if (!r.ok) throw new Problem(r.status, body);
  return body;
}

/** Saves a list operation's answer as CSV or a workbook (the same filters as the view). */
async function download(path, format, name) {
  const sep = path.includes('?') ? '&' : '?';
  const r = await fetch(`/api/v1${path}${sep}format=${format}`, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!r.ok) throw new Problem(r.status, null);
  const url = URL.createObjectURL(await r.blob());
  const a = h('a', { href: url, download: `${name}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function downloads(path, name) {
  return h('span', { class: 'downloads' }, `${t('download')}: `,
    ['csv', 'xlsx'].map((f) => h('button', { type: 'button', class: 'link', 'data-format': f, onclick: () => download(path, f, name).catch(fail) }, t(f))));
}

function fail(e) {
  show(h('section', { class: 'error', role: 'alert' }, h('h2', {}, t('error')), h('p', {}, e.message || String(e))));
}

// ---- sign-in and chrome ------------------------------------------------------------------

function signOut() {
  clearInterval(state.timer);
  state.timer = null;
  state.gen += 1;
  sessionStorage.removeItem('ppe.token');
  state.token = null;
  state.me = null;
  chrome();
  signIn();
}

function signIn() {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true });
  const msg = h('p', { class: 'field-error', id: 'token-error' });
  show(h('form', {
    class: 'card signin',
    onsubmit: async (ev) => {
      ev.preventDefault();
      state.token = input.value.trim();
      try {
        state.me = await api('/me');
        sessionStorage.setItem('ppe.token', state.token);
        chrome();
        route();
      } catch (e) {
        state.token = null;
        msg.textContent = e.message;
      }
    },
  }, h('h1', {}, t('signin')), h('label', { for: 'token' }, t('token')), input, h('p', { class: 'hint' }, t('tokenHelp')), msg,
  h('button', { type: 'submit' }, t('signin'))));
}

function chrome() {
  document.documentElement.lang = state.lang === 'nb' ? 'nb' : 'en';
  const nav = document.getElementById('nav');
  const links = [['#/overview', 'overview'], ['#/map', 'map'], ['#/accuracy', 'accuracy']];
  if (may('report_stock')) links.push(['#/report', 'report']);
  nav.replaceChildren(...(state.me ? links.map(([href, k]) => h('a', { href, 'data-nav': k }, t(k))) : []));
  const out = document.getElementById('signout');
  out.textContent = t('signout');
  out.hidden = !state.me;
  document.getElementById('who').textContent = state.me ? `${t('signedInAs')} ${state.me.name} (${state.me.role})` : '';
}

// ---- overview -----------------------------------------------------------------------------

/** A unit's band in a category is the worst of its items' bands there. */
function bandCounts(rows) {
  const worst = new Map();
  for (const r of rows) {
    const key = `${r.category}\u0000${r.site}`;
    const b = worst.get(key);
    if (b == null || BAND_RANK[r.band] < BAND_RANK[b]) worst.set(key, r.band);
  }
  const counts = new Map();
  for (const [key, b] of worst) {
    const cat = key.split('\u0000')[0];
    if (!counts.has(cat)) counts.set(cat, { red: 0, amber: 0, green: 0, no_demand: 0 });
    counts.get(cat)[b] += 1;
  }
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
}

function bandTable(rows, attrs) {
  return table([
    { label: t('category'), cell: ([c]) => named(c) },
    ...BANDS.map((b) => ({ label: t(b), num: true, cell: ([, n]) => (n[b] ? h('span', { class: `count band-${b}` }, num(n[b])) : '·') })),
  ], bandCounts(rows), attrs);
}

const riskOrder = (a, b) =>
  BAND_RANK[a.band] - BAND_RANK[b.band] || b.stockout_probability - a.stockout_probability || a.days_of_supply.q50 - b.days_of_supply.q50;

function riskTable(rows) {
  const at = rows.filter((r) => r.band === 'red' || r.band === 'amber').sort(riskOrder);
  return tagRows(table([
    { label: t('band'), cell: (r) => bandTag(r.band) },
    { label: t('unit'), cell: (r) => siteLink(r.site, r.site_name) },
    { label: t('district'), cell: (r) => r.district },
    { label: t('item'), cell: (r) => itemLink(r.item) },
    { label: t('onHand'), num: true, cell: (r) => num(r.on_hand) },
    { label: t('dos'), num: true, cell: (r) => `${num(r.days_of_supply.q10, 1)} / ${num(r.days_of_supply.q50, 1)} / ${num(r.days_of_supply.q90, 1)}` },
    { label: t('risk'), num: true, cell: (r) => pct(r.stockout_probability) },
    { label: t('suggested'), num: true, cell: (r) => num(r.suggested_order) },
  ], at, { id: 'risk', class: 'rows' }), at, (r) => ({ site: r.site, item: r.item, band: r.band }));
}

const newest = (rows) => rows.reduce((m, r) => Math.max(m, Date.parse(r.provenance.computed_at)), 0);

async function overview() {
  const gen = state.gen;
  const rows = await scopedRows('/supply-status');
  const districts = [...new Set(rows.map((r) => r.district || '–'))].sort();
  showAt(gen, h('section', { id: 'overview' },
    h('h1', {}, t('overview')),
    h('p', { class: 'hint' }, `${t('updated')}: `, h('time', { id: 'computed' }, stamp(new Date(newest(rows)).toISOString()))),
    h('article', { class: 'card wide' }, h('h2', {}, t('municipality')), bandTable(rows, { id: 'bands-municipality' })),
    h('h2', {}, t('riskiest'), ' ', downloads(state.me.sites ? withSite('/supply-status', state.me.sites[0]) : '/supply-status', 'supply-status')),
    riskTable(rows),
    h('h2', {}, t('district')),
    h('div', { class: 'grid' },
      districts.map((d) => h('article', { class: 'card', 'data-district': d }, h('h3', {}, d), bandTable(rows.filter((r) => (r.district || '–') === d)))))));
  // Forecasts are refreshed in the background: redraw when a newer computation lands.
  let seen = newest(rows);
  if (gen !== state.gen) return;
  state.timer = setInterval(async () => {
    try {
      const again = await scopedRows('/supply-status');
      if (gen !== state.gen) return;
      if (newest(again) !== seen) {
        seen = newest(again);
        document.getElementById('risk').replaceWith(riskTable(again));
        document.getElementById('computed').textContent = stamp(new Date(seen).toISOString());
      }
    } catch (_) { /* the next tick tries again */ }
  }, POLL_MS);
}

// ---- map ----------------------------------------------------------------------------------

const ROUTE_COLOURS = ['#1f6feb', '#8250df', '#bf3989', '#1a7f37', '#9a6700', '#cf222e'];

async function mapView() {
  const gen = state.gen;
  // Plans span many units: a token limited to some sites does not see them.
  const [sites, rows, plans] = await Promise.all([api('/sites'), scopedRows('/supply-status'), state.me.sites ? [] : api('/delivery-plans')]);
  const worst = new Map();
  for (const r of rows) {
    const b = worst.get(r.site);
    if (b == null || BAND_RANK[r.band] < BAND_RANK[b]) worst.set(r.site, r.band);
  }
  const placed = sites.filter((x) => x.latitude != null && x.longitude != null);
  const W = 900, H = 640, pad = 30;
  const lat0 = placed.reduce((a, x) => a + x.latitude, 0) / Math.max(placed.length, 1);
  const kx = Math.cos((lat0 * Math.PI) / 180); // equirectangular: a degree of longitude is shorter up north
  const xs = placed.map((x) => x.longitude * kx), ys = placed.map((x) => x.latitude);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((W - 2 * pad) / (x1 - x0 || 1), (H - 2 * pad) / (y1 - y0 || 1));
  const px = (lon) => pad + (lon * kx - x0) * scale;
  const py = (lat) => H - pad - (lat - y0) * scale;
  const bySite = new Map(sites.map((x) => [x.code, x]));

  const plan = plans.filter((p) => p.status === 'planned' || p.status === 'dispatched').sort((a, b) => b.id - a.id)[0];
  const routes = [];
  if (plan) {
    const depot = bySite.get(plan.depot);
    plan.routes.forEach((r, i) => r.trips.forEach((trip) => {
      const pts = [depot, ...trip.stops, depot].filter((p) => p && p.latitude != null).map((p) => `${px(p.longitude).toFixed(1)},${py(p.latitude).toFixed(1)}`);
      routes.push(s('polyline', { class: 'route', points: pts.join(' '), stroke: ROUTE_COLOURS[i % ROUTE_COLOURS.length], 'data-route': r.number }, s('title', {}, `${t('route')} ${r.number} · ${r.vehicle}`)));
    }));
  }
  const marks = placed.map((x) => {
    const b = x.kind === 'unit' ? worst.get(x.code) || 'no_demand' : 'depot';
    const a = s('a', { href: `#/site/${encodeURIComponent(x.code)}` },
      x.kind === 'unit'
        ? s('circle', { cx: px(x.longitude).toFixed(1), cy: py(x.latitude).toFixed(1), r: 7, class: `mark band-${b}` })
        : s('rect', { x: (px(x.longitude) - 8).toFixed(1), y: (py(x.latitude) - 8).toFixed(1), width: 16, height: 16, class: 'mark depot' }),
      s('title', {}, `${x.name} (${x.code}) · ${t(b) === b ? '' : t(b)}`));
    a.dataset.site = x.code;
    a.dataset.band = b;
    return a;
  });
  showAt(gen, h('section', { id: 'map' },
    h('h1', {}, t('map')),
    h('p', { class: 'hint' }, `${num(placed.length)} ${t('sites')} · `, plan ? `${t('plan')} ${plan.id} (${day(plan.date)}, ${plan.status})` : t('noPlan')),
    h('div', { class: 'legend' }, BANDS.map((b) => h('span', {}, h('i', { class: `dot band-${b}` }), t(b)))),
    s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'map', role: 'img', 'aria-label': t('map') }, s('rect', { width: W, height: H, class: 'sea' }), routes, marks)));
}

// ---- site -----------------------------------------------------------------------------------

function chart({ days, points, onHand, inTransit }) {
  const W = 640, H = 220, L = 44, R = 10, T = 10, B = 24;
  const hist = days.slice(-56);
  const all = [...hist.map((d) => d.day), ...points.map((p) => p.date)];
  if (all.length === 0) return h('p', {}, t('none'));
  const ymax = Math.max(1, ...hist.map((d) => d.quantity), ...points.map((p) => p.q90)) * 1.1;
  const x = (i) => L + (i * (W - L - R)) / Math.max(all.length - 1, 1);
  const y = (v) => H - B - (v * (H - T - B)) / ymax;
  const n = hist.length;
  const fan = points.length
    ? s('polygon', { class: 'fan', points: [...points.map((p, i) => `${x(n + i)},${y(p.q90)}`), ...points.map((p, i) => `${x(n + i)},${y(p.q10)}`).reverse()].join(' ') })
    : null;
  const median = points.length ? s('polyline', { class: 'median', points: points.map((p, i) => `${x(n + i)},${y(p.q50)}`).join(' ') }) : null;
  const censored = hist.map((d, i) => (d.censored ? s('rect', { class: 'censored', x: x(i) - 3, y: T, width: 6, height: H - T - B }) : null));
  const dots = hist.map((d, i) => s('circle', { class: `point ${d.inferred ? 'inferred' : 'reported'}`, cx: x(i), cy: y(d.quantity), r: 3 }, s('title', {}, `${day(d.day)}: ${num(d.quantity, 1)}`)));
  const axis = [0, ymax / 2, ymax].map((v) => s('text', { x: L - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, num(v, v < 10 ? 1 : 0)));
  const anchor = (i) => (i === 0 ? 'start' : i === all.length - 1 ? 'end' : 'middle');
  const dates = [0, n, all.length - 1].filter((i, k, a) => a.indexOf(i) === k && all[i]).map((i) => s('text', { x: x(i), y: H - 6, class: 'tick', 'text-anchor': anchor(i) }, day(all[i])));
  const use = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart use' }, censored, fan, median, dots, axis, dates,
    s('line', { x1: x(n - 0.5), x2: x(n - 0.5), y1: T, y2: H - B, class: 'today' }));

  // The stock position: history's closing balances, then what is held less cumulative
  // forecast use (median; the q90 use gives the pessimistic edge).
  let c50 = onHand + inTransit, c90 = onHand + inTransit;
  const ahead = points.map((p) => ((c50 = Math.max(0, c50 - p.q50)), (c90 = Math.max(0, c90 - p.q90)), [c50, c90]));
  const smax = Math.max(1, ...hist.map((d) => d.closing_balance), onHand + inTransit) * 1.1;
  const ys = (v) => H - B - (v * (H - T - B)) / smax;
  const stock = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart stock' },
    s('polyline', { class: 'balance', points: hist.map((d, i) => `${x(i)},${ys(d.closing_balance)}`).join(' ') }),
    ahead.length ? s('polyline', { class: 'median', points: ahead.map(([m], i) => `${x(n + i)},${ys(m)}`).join(' ') }) : null,
    ahead.length ? s('polyline', { class: 'pessimistic', points: ahead.map(([, p], i) => `${x(n + i)},${ys(p)}`).join(' ') }) : null,
    [0, smax / 2, smax].map((v) => s('text', { x: L - 6, y: ys(v) + 4, class: 'tick', 'text-anchor': 'end' }, num(v))),
    dates.map((d) => d.cloneNode(true)),
    s('line', { x1: x(n - 0.5), x2: x(n - 0.5), y1: T, y2: H - B, class: 'today' }));
  return h('div', { class: 'charts' },
    h('figure', {}, use, h('figcaption', {}, t('use'), ' · ', h('span', { class: 'key reported' }, t('reported')), h('span', { class: 'key inferred' }, t('inferred')), h('span', { class: 'key censored' }, t('censored')), h('span', { class: 'key fan' }, t('forecastFan')))),
    h('figure', {}, stock, h('figcaption', {}, t('stockRun'), ' · ', h('span', { class: 'key balance' }, t('stock')), h('span', { class: 'key median' }, t('median')))));
}

async function siteChart(code, status) {
  const q = `site=${encodeURIComponent(code)}&item=${encodeURIComponent(status.item)}`;
  const [use, fc] = await Promise.all([api(`/consumption?${q}`), api(`/forecasts?${q}&horizon=28`)]);
  const drawn = chart({ days: use.days, points: fc[0] ? fc[0].points : [], onHand: status.on_hand, inTransit: status.in_transit });
  return h('div', {}, drawn, h('p', {}, `${t('use')}: `, downloads(`/consumption?${q}`, `consumption-${code}-${status.item}`),
    ' · ', `${t('forecastFan')}: `, downloads(`/forecasts?${q}&horizon=28`, `forecast-${code}-${status.item}`)));
}

async function siteView(code) {
  const gen = state.gen;
  const enc = encodeURIComponent(code);
  const [site, balances, status, ledger] = await Promise.all([
    api(`/sites/${enc}`), api(`/sites/${enc}/balances`), api(`/supply-status?site=${enc}`), api(`/movements?site=${enc}&from=${encodeURIComponent(new Date(Date.now() - 30 * 864e5).toISOString())}&limit=1000`),
  ]);
  status.sort(riskOrder);
  const held = balances.filter((b) => b.quantity !== 0);
  const picker = h('select', { id: 'chart-item', 'aria-label': t('item') }, status.map((r) => h('option', { value: r.item }, `${r.item} (${t(r.band)})`)));
  const holder = h('div', { id: 'chart' }, t('loading'));
  const draw = async () => {
    const r = status.find((x) => x.item === picker.value);
    if (r) holder.replaceChildren(await siteChart(code, r));
  };
  picker.addEventListener('change', () => draw().catch(fail));
  showAt(gen, h('section', { id: 'site', 'data-site': code },
    h('h1', {}, site.name, ' ', h('small', {}, `${site.code} · ${site.district || ''}`)),
    may('report_stock') && (!state.me.sites || state.me.sites.includes(code)) ? h('p', {}, h('a', { href: `#/report/${enc}`, class: 'button' }, t('report'))) : null,
    h('h2', {}, t('use')), picker, holder,
    h('h2', {}, t('balances'), ' ', downloads(`/sites/${enc}/balances`, `balances-${code}`)),
    tagRows(table([
      { label: t('item'), cell: (b) => itemLink(b.item) },
      { label: t('lot'), cell: (b) => b.lot || '–' },
      { label: t('expires'), cell: (b) => day(b.expires_on) },
      { label: t('quantity'), num: true, cell: (b) => num(b.quantity) },
    ], held, { id: 'balances' }), held, (b) => ({ item: b.item, lot: b.lot, quantity: b.quantity })),
    h('h2', {}, t('ledger'), ' ', downloads(`/movements?site=${enc}&limit=1000`, `ledger-${code}`)),
    table([
      { label: t('when'), cell: (m) => stamp(m.occurred_at) },
      { label: t('kind'), cell: (m) => named(m.kind) },
      { label: t('item'), cell: (m) => m.item },
      { label: t('quantity'), num: true, cell: (m) => num(m.quantity) },
      { label: t('by'), cell: (m) => m.reported_by || m.token_name || '–' },
    ], ledger.items.slice(-30).reverse(), { id: 'ledger' })));
  await draw();
}

// ---- item -------------------------------------------------------------------------------------

async function itemView(sku) {
  const gen = state.gen;
  const enc = encodeURIComponent(sku);
  // District totals span many units: a token limited to some sites does not see them.
  const [item, balances, agg] = await Promise.all([api(`/items/${enc}`), api(`/items/${enc}/balances`), state.me.sites ? [] : api(`/supply-status/aggregates?item=${enc}`)]);
  const perSite = new Map();
  for (const b of balances) perSite.set(b.site, (perSite.get(b.site) || 0) + b.quantity);
  const held = [...perSite.entries()].filter(([, q]) => q > 0).sort((a, b) => b[1] - a[1]);
  showAt(gen, h('section', { id: 'item' },
    h('h1', {}, item.name, ' ', h('small', {}, `${item.sku} · ${named(item.category)}`)),
    h('h2', {}, t('pooled'), ' ', downloads(`/supply-status/aggregates?item=${enc}`, `aggregates-${sku}`)),
    table([
      { label: t('district'), cell: (a) => a.district || t('municipality') },
      { label: t('units'), num: true, cell: (a) => num(a.units) },
      { label: t('onHand'), num: true, cell: (a) => num(a.on_hand) },
      { label: t('inTransit'), num: true, cell: (a) => num(a.in_transit) },
      { label: t('burn'), num: true, cell: (a) => num(a.burn_rate, 1) },
      { label: t('pooled'), num: true, cell: (a) => num(a.pooled_days_of_supply, 1) },
      ...BANDS.slice(0, 3).map((b) => ({ label: t(b), num: true, cell: (a) => num(a[b]) })),
    ], agg, { id: 'districts' }),
    h('h2', {}, t('heldAt')),
    table([
      { label: t('site'), cell: ([c]) => siteLink(c) },
      { label: t('quantity'), num: true, cell: ([, q]) => num(q) },
    ], held, { id: 'held' })));
}

// ---- stock report -----------------------------------------------------------------------------

function randomKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 'dash-' + [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

async function reportPick() {
  const gen = state.gen;
  const sites = (await api('/sites')).filter((x) => x.kind === 'unit' && (!state.me.sites || state.me.sites.includes(x.code)));
  if (sites.length === 1) return void (location.hash = `#/report/${encodeURIComponent(sites[0].code)}`);
  showAt(gen, h('section', { id: 'report-pick' }, h('h1', {}, t('chooseUnit')),
    h('ul', { class: 'list' }, sites.map((x) => h('li', {}, h('a', { href: `#/report/${encodeURIComponent(x.code)}` }, `${x.name} (${x.code})`))))));
}

async function reportForm(code) {
  const gen = state.gen;
  if (!may('report_stock') || (state.me.sites && !state.me.sites.includes(code))) {
    showAt(gen, h('section', { class: 'error', id: 'report-denied' }, h('p', {}, t('notAllowed'))));
    return;
  }
  const enc = encodeURIComponent(code);
  const [site, items, balances] = await Promise.all([api(`/sites/${enc}`), api('/items'), api(`/sites/${enc}/balances`)]);
  const now = new Map();
  for (const b of balances) now.set(b.item, (now.get(b.item) || 0) + b.quantity);
  const active = items.filter((i) => i.active !== false);
  // One key per report: kept until the server answers, so a resend after a lost answer
  // is recognised as the same report.
  const pendingKey = `ppe.report.${code}`;
  const msg = h('p', { id: 'report-message', role: 'status' });
  const who = h('input', { id: 'reported_by', name: 'reported_by', required: true, autocomplete: 'name', value: localStorage.getItem('ppe.reporter') || '' });
  const whoError = h('p', { class: 'field-error', 'data-error-for': 'reported_by' });
  const inputs = active.map((i) => h('input', { type: 'number', inputmode: 'numeric', step: 1, name: i.sku, id: `count-${i.sku}`, 'data-item': i.sku, class: 'count' }));
  const form = h('form', { id: 'report', class: 'card report', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    form.querySelectorAll('.field-error').forEach((e) => (e.textContent = ''));
    form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
    // What was typed as a count but is no number never reaches the server unnoticed.
    const unreadable = inputs.filter((i) => i.validity.badInput);
    if (unreadable.length) {
      unreadable.forEach((i) => markField(i, t('notANumber')));
      msg.className = 'field-error';
      msg.textContent = t('fixFields');
      return;
    }
    // The inputs sent, fixed now: the answer's `lines[i]` refers to them.
    const sent = inputs.filter((i) => i.value.trim() !== '');
    const lines = sent.map((i) => ({ item: i.dataset.item, counted: Number(i.value) }));
    const body = JSON.stringify({ site: code, reported_by: who.value.trim(), lines });
    const saved = JSON.parse(sessionStorage.getItem(pendingKey) || 'null');
    const key = saved && saved.body === body ? saved.key : randomKey();
    sessionStorage.setItem(pendingKey, JSON.stringify({ key, body }));
    localStorage.setItem('ppe.reporter', who.value.trim());
    submit.disabled = true;
    inputs.forEach((i) => (i.readOnly = true));
    try {
      await api('/stock-reports', { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key } });
      sessionStorage.removeItem(pendingKey);
      msg.className = 'ok';
      msg.textContent = t('sent');
      sent.forEach((i) => {
        now.set(i.dataset.item, Number(i.value));
        form.querySelector(`[data-now-for="${i.dataset.item}"]`).textContent = num(Number(i.value));
        i.value = '';
      });
    } catch (e) {
      msg.className = 'field-error';
      // No answer, or one that does not say whether the report was written (a server
      // error, a timeout, too many requests): the next press resends with the same key.
      const unknown = !(e instanceof Problem) || e.status >= 500 || e.status === 408 || e.status === 429;
      if (unknown) {
        msg.textContent = t('resend');
      } else {
        // A refused report was not written: the next try is a new report.
        sessionStorage.removeItem(pendingKey);
        const errors = e.body.errors || [];
        const elsewhere = [];
        for (const fe of errors) {
          const m = /^lines\[(\d+)\]/.exec(fe.field);
          const target = m ? sent[Number(m[1])] : fe.field === 'reported_by' ? who : null;
          if (target) markField(target, fe.message);
          else elsewhere.push(fe.message);
        }
        msg.textContent = errors.length ? [t('fixFields'), ...elsewhere].join(' ') : e.message;
      }
    } finally {
      submit.disabled = false;
      inputs.forEach((i) => (i.readOnly = false));
    }
  } });
  const submit = h('button', { type: 'submit' }, t('submit'));
  function markField(input, message) {
    input.setAttribute('aria-invalid', 'true');
    const slot = form.querySelector(`[data-error-for="${input.name}"]`);
    if (slot) slot.textContent = message;
  }
  form.append(
    h('h1', {}, t('report')), h('p', {}, `${site.name} (${site.code})`),
    h('label', { for: 'reported_by' }, t('reportedBy')), who, whoError,
    h('table', { class: 'counts' },
      h('thead', {}, h('tr', {}, h('th', {}, t('item')), h('th', { class: 'num' }, t('lastCount')), h('th', {}, t('counted')))),
      h('tbody', {}, active.map((i, k) => h('tr', {},
        h('td', {}, h('label', { for: `count-${i.sku}` }, i.name), h('small', {}, ` ${i.sku}`)),
        h('td', { class: 'num', 'data-now-for': i.sku }, num(now.get(i.sku) || 0)),
        h('td', {}, inputs[k], h('p', { class: 'field-error', 'data-error-for': i.sku })))))),
    msg, submit);
  showAt(gen, form);
}

// ---- accuracy ---------------------------------------------------------------------------------

async function accuracyView() {
  const gen = state.gen;
  // A token of several sites gets each site's table; the summary is then of its first site.
  const parts = state.me.sites ? await Promise.all(state.me.sites.map((x) => api(withSite('/forecasts/accuracy', x)))) : [await api('/forecasts/accuracy')];
  const acc = { summary: parts[0].summary, series: parts.flatMap((a) => a.series) };
  const sm = acc.summary;
  const series = [...acc.series].sort((a, b) => (b.holdout?.rmsse ?? 0) - (a.holdout?.rmsse ?? 0));
  showAt(gen, h('section', { id: 'accuracy' },
    h('h1', {}, t('accuracy')),
    h('dl', { class: 'summary' },
      h('dt', {}, t('series')), h('dd', {}, num(sm.series)),
      h('dt', {}, t('mase')), h('dd', {}, num(sm.mean_mase, 2)),
      h('dt', {}, t('rmsse')), h('dd', {}, num(sm.mean_rmsse, 2)),
      h('dt', {}, t('coverage')), h('dd', {}, `${pct(sm.coverage)} (${t('nominal')} ${pct(sm.nominal_coverage)})`),
      h('dt', {}, t('methods')), h('dd', {}, sm.methods.map((m) => `${m.method} ${num(m.series)}`).join(', '))),
    h('h2', {}, t('series'), ' ', downloads(state.me.sites ? withSite('/forecasts/accuracy', state.me.sites[0]) : '/forecasts/accuracy', 'forecast-accuracy')),
    table([
      { label: t('site'), cell: (r) => siteLink(r.site) },
      { label: t('item'), cell: (r) => itemLink(r.item) },
      { label: t('methods'), cell: (r) => r.methods.join(', ') },
      { label: t('mase'), num: true, cell: (r) => num(r.holdout?.mase, 2) },
      { label: t('rmsse'), num: true, cell: (r) => num(r.holdout?.rmsse, 2) },
      { label: t('coverage'), num: true, cell: (r) => pct(r.holdout?.coverage) },
      { label: t('history'), num: true, cell: (r) => num(r.history_days) },
    ], series, { id: 'series' })));
}

// ---- routing --------------------------------------------------------------------------------

async function route() {
  delete document.body.dataset.ready;
  clearInterval(state.timer);
  state.timer = null;
  state.gen += 1;
  const gen = state.gen;
  if (!state.token) return signIn();
  try {
    if (!state.me) {
      state.me = await api('/me');
      chrome();
    }
    const [, page, arg] = (location.hash || '#/overview').split('/').map(decodeURIComponent);
    document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.nav === page));
    show(h('p', { class: 'loading' }, t('loading')));
    if (page === 'map') await mapView();
    else if (page === 'site' && arg) await siteView(arg);
    else if (page === 'item' && arg) await itemView(arg);
    else if (page === 'report') await (arg ? reportForm(arg) : reportPick());
    else if (page === 'accuracy') await accuracyView();
    else await overview();
    if (gen === state.gen) document.body.dataset.ready = page || 'overview';
  } catch (e) {
    if (e.status === 401) return;
    if (gen === state.gen) fail(e.status === 404 ? new Error(t('notFound')) : e);
  }
}

document.getElementById('lang').value = state.lang;
document.getElementById('lang').addEventListener('change', (ev) => {
  state.lang = ev.target.value;
  localStorage.setItem('ppe.lang', state.lang);
  chrome();
  route();
});
document.getElementById('signout').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
chrome();
route();
