// The "Market" panel: the price index of the server's market model as an SVG plot, and an estimate for one
// work (POST /v1/market/value). Plain JavaScript; server strings are shown with textContent only. The panel
// stays hidden when the server has no market model (GET /v1/market/status says so).
'use strict';

(() => {
  const KEY_NAME = 'artlens.key';
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);

  async function call(path, options = {}) {
    const headers = new Headers(options.headers || {});
    headers.set('Authorization', `Bearer ${sessionStorage.getItem(KEY_NAME) || ''}`);
    const response = await fetch(path, { ...options, headers, credentials: 'omit', cache: 'no-store' });
    let body = null;
    try { body = await response.json(); } catch (err) { /* not JSON */ }
    if (!response.ok) {
      const message = body && body.error ? String(body.error.message) : `HTTP ${response.status}`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function node(name, attrs, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
    if (parent) parent.append(element);
    return element;
  }

  function text(parent, x, y, value, anchor = 'middle') {
    const t = node('text', { x, y, 'font-size': 11, 'text-anchor': anchor, fill: '#5f6b76' }, parent);
    t.textContent = value;
    return t;
  }

  function plot(record) {
    const svg = $('market-plot');
    svg.replaceChildren();
    const all = record.all;
    const h = all.hedonic;
    const f = all.forecast;
    const labels = [...h.periods, ...f.periods];
    const rs = all.repeat_sales ? all.repeat_sales.index : [];
    const values = [...h.low, ...h.high, ...f.index_low, ...f.index_high, ...rs].filter((v) => v !== null);
    const lo = Math.min(...values) * 0.95;
    const hi = Math.max(...values) * 1.05;
    const [left, right, top, bottom] = [48, 612, 12, 226];
    const x = (i) => left + (i * (right - left)) / Math.max(labels.length - 1, 1);
    const y = (v) => bottom - ((v - lo) * (bottom - top)) / (hi - lo || 1);
    for (let k = 0; k <= 4; k += 1) {
      const v = lo + ((hi - lo) * k) / 4;
      node('line', { x1: left, x2: right, y1: y(v), y2: y(v), stroke: '#e4e7eb' }, svg);
      text(svg, left - 6, y(v) + 4, v.toFixed(0), 'end');
    }
    const step = Math.ceil(labels.length / 12);
    labels.forEach((label, i) => { if (i % step === 0) text(svg, x(i), bottom + 16, label); });
    const band = h.low.map((v, i) => `${x(i)},${y(v)}`).concat(
      h.high.map((v, i) => `${x(i)},${y(v)}`).reverse());
    node('polygon', { points: band.join(' '), fill: '#2456a6', 'fill-opacity': 0.15 }, svg);
    const line = (points, attrs) => node('polyline', { points: points.join(' '), fill: 'none', ...attrs }, svg);
    line(h.index.map((v, i) => `${x(i)},${y(v)}`), { stroke: '#2456a6', 'stroke-width': 2 });
    const rsPoints = rs.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter((p) => p !== null);
    if (rsPoints.length) line(rsPoints, { stroke: '#c0650f', 'stroke-width': 1.5, 'stroke-dasharray': '5 3' });
    const n = h.index.length;
    const last = h.index[n - 1];
    const fc = [last, ...f.index].map((v, i) => `${x(n - 1 + i)},${y(v)}`);
    const fcBand = [last, ...f.index_low].map((v, i) => `${x(n - 1 + i)},${y(v)}`).concat(
      [last, ...f.index_high].map((v, i) => `${x(n - 1 + i)},${y(v)}`).reverse());
    node('polygon', { points: fcBand.join(' '), fill: '#1f7a3a', 'fill-opacity': 0.12 }, svg);
    line(fc, { stroke: '#1f7a3a', 'stroke-width': 2, 'stroke-dasharray': '2 3' });
    const pairs = all.repeat_sales ? `, repeat sales (${all.repeat_sales.observations} pairs, dashed)` : '';
    $('market-legend').textContent = `Index, first period = 100: hedonic time-dummy (blue, 95 % band)${pairs}, `
      + `forecast with ${Math.round(100 * f.level)} % interval (green). ${record.sales} sales, `
      + `${record.bought_in} bought in (left out).`;
  }

  async function load() {
    try {
      const status = await call('/v1/market/status');
      if (!status.available) return;
      const record = await call('/v1/market/trends');
      $('market').hidden = false;
      plot(record);
    } catch (err) {
      $('market').hidden = true;
    }
  }

  async function estimate(event) {
    event.preventDefault();
    const number = (id) => ($(id).value === '' ? null : Number($(id).value));
    const work = { artist: $('market-artist').value, medium: $('market-medium').value,
      height: number('market-height'), width: number('market-width'), year_created: number('market-year') };
    $('market-status').textContent = 'Estimating...';
    $('market-go').disabled = true;
    try {
      const answer = await call('/v1/market/value', { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ works: [work] }) });
      const w = answer.works[0];
      const money = (v) => Math.round(v).toLocaleString('en');
      $('market-estimate').textContent = `Estimate ${money(w.estimate)}`;
      $('market-interval').textContent = `${Math.round(100 * answer.level)} % interval ${money(w.low)} to `
        + `${money(w.high)} (model ${answer.model}${w.known_artist ? '' : ', artist not in the sales'})`;
      const list = $('market-drivers');
      list.replaceChildren();
      for (const d of w.drivers.slice(0, 4)) {
        const li = document.createElement('li');
        li.textContent = `${d.group}: ${d.percent > 0 ? '+' : ''}${d.percent} % against a typical sale`;
        list.append(li);
      }
      $('market-result').hidden = false;
      $('market-status').textContent = '';
    } catch (err) {
      $('market-status').textContent = `Could not estimate: ${err.message}`;
    } finally {
      $('market-go').disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('market-form').addEventListener('submit', estimate);
    const app = $('app');
    const watch = () => { if (!app.hidden) load(); };
    new MutationObserver(watch).observe(app, { attributes: true, attributeFilter: ['hidden'] });
    watch();
  });
})();
