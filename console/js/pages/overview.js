// Overview: sign-ins per second by result and latency percentiles, live from /metrics.
import {get} from '../api.js';
import {drawLines} from '../chart.js';
import {clear, h, liveRegion, showError, table} from '../dom.js';
import {histogram, parseMetrics, quantile, resultInWords, verifyCounts} from '../metrics.js';

const INTERVAL_MS = 2000;
const SLOTS = 30;
let timer = null;

export function stopOverview() {
  if (timer) clearInterval(timer);
  timer = null;
}

const SVG = 'http://www.w3.org/2000/svg';

function chart(title, id) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', `${id}-title`);
  svg.setAttribute('class', 'chart');
  svg.id = id;
  return h('figure', {class: 'chart-box'}, h('figcaption', {id: `${id}-title`}, title), svg);
}

export async function renderOverview(root) {
  const rateChart = chart('Sign-ins per second by result', 'rate-chart');
  const latencyChart = chart('Verification latency percentiles (ms)', 'latency-chart');
  const legendRate = h('ul', {class: 'legend', 'aria-hidden': 'true'});
  const legendLatency = h('ul', {class: 'legend', 'aria-hidden': 'true'},
    ['p50', 'p95', 'p99'].map((p, i) => h('li', {class: `s${i}`}, p)));
  const now = h('div', {id: 'overview-now'});
  const status = liveRegion();
  root.append(h('h1', {}, 'Overview'),
    h('p', {}, `Live from /metrics every ${INTERVAL_MS / 1000}\u00a0s, over the last ` +
      `${(SLOTS * INTERVAL_MS) / 1000}\u00a0s.`),
    status, h('div', {class: 'charts'}, h('div', {}, rateChart, legendRate),
      h('div', {}, latencyChart, legendLatency)), now);

  const history = [];  // {t, counts, buckets}
  const rates = {};  // result -> [per second]
  const lat = {p50: [], p95: [], p99: []};

  async function tick() {
    let text;
    try {
      text = (await get('/metrics', {text: true})).body;
    } catch (err) {
      showError(status, err);
      return;
    }
    clear(status);
    const samples = parseMetrics(text);
    const snap = {t: performance.now(), counts: verifyCounts(samples),
      buckets: histogram(samples, 'otpd_verify_duration_seconds')};
    const prev = history[history.length - 1];
    history.push(snap);
    if (history.length > SLOTS) history.shift();
    if (prev) {
      const dt = (snap.t - prev.t) / 1000;
      const names = new Set([...Object.keys(snap.counts), ...Object.keys(rates)]);
      for (const name of names) {
        rates[name] = rates[name] || [];
        rates[name].push(Math.max(0, ((snap.counts[name] || 0) - (prev.counts[name] || 0)) / dt));
        if (rates[name].length > SLOTS) rates[name].shift();
      }
      const same = prev.buckets.length === snap.buckets.length;
      for (const [key, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]]) {
        const v = same ? quantile(q, snap.buckets, prev.buckets) : null;
        lat[key].push(v === null ? NaN : v * 1000);
        if (lat[key].length > SLOTS) lat[key].shift();
      }
    }
    // Results that never happened stay off the chart.
    const shown = Object.keys(rates).filter((n) => rates[n].some((v) => v > 0) ||
      n === 'accepted').sort((a, b) => (a === 'accepted' ? -1 : b === 'accepted' ? 1 :
      a.localeCompare(b)));
    drawLines(rateChart.querySelector('svg'), {slots: SLOTS,
      series: shown.map((n, i) => ({name: resultInWords(n), points: rates[n],
        cls: `s${i % 6}`}))});
    clear(legendRate).append(...shown.map((n, i) => h('li', {class: `s${i % 6}`},
      resultInWords(n))));
    drawLines(latencyChart.querySelector('svg'), {slots: SLOTS,
      series: ['p50', 'p95', 'p99'].map((k, i) => ({name: k, points: lat[k], cls: `s${i}`}))});
    const last = (a) => (a.length ? a[a.length - 1] : NaN);
    const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
    clear(now).append(table('Now', ['Measure', 'Value'], [
      ...shown.map((n) => [`Sign-ins per second: ${resultInWords(n)}`,
        fmt(last(rates[n]))]),
      ['Total sign-ins (accepted)', String(snap.counts.accepted ?? 0)],
      ['Latency p50 (ms)', fmt(last(lat.p50), 2)],
      ['Latency p95 (ms)', fmt(last(lat.p95), 2)],
      ['Latency p99 (ms)', fmt(last(lat.p99), 2)],
    ]));
  }
  await tick();
  timer = setInterval(tick, INTERVAL_MS);
}
