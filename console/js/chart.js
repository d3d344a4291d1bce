// A line chart drawn as SVG elements (no library): series of {name, points: [y...], cls}.
const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// Draws into `svg` (an <svg> element with a viewBox of width x height).
export function drawLines(svg, {series, slots, width = 600, height = 220, unit = '',
  format = (v) => String(Number(v.toPrecision(3)))}) {
  while (svg.firstChild) svg.firstChild.remove();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const left = 56;
  const right = 8;
  const top = 10;
  const bottom = 24;
  const w = width - left - right;
  const hgt = height - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.filter(Number.isFinite))));
  const x = (i) => left + (slots <= 1 ? 0 : (i * w) / (slots - 1));
  const y = (v) => top + hgt - (v / max) * hgt;
  for (let k = 0; k <= 4; k += 1) {
    const v = (max * k) / 4;
    svg.append(el('line', {x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid'}));
    svg.append(el('text', {x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end'},
      `${format(v)}${unit}`));
  }
  svg.append(el('text', {x: left, y: height - 6, class: 'axis'}, `${slots} samples ago`));
  svg.append(el('text', {x: width - right, y: height - 6, class: 'axis', 'text-anchor': 'end'},
    'now'));
  for (const s of series) {
    const offset = slots - s.points.length;
    const pts = s.points.map((v, i) => (Number.isFinite(v) ? `${x(i + offset)},${y(v)}` : null))
      .filter(Boolean);
    if (pts.length) {
      svg.append(el('polyline', {points: pts.join(' '), class: `line ${s.cls}`}));
    }
  }
}
