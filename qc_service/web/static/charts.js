// Small SVG charts drawn from the API's JSON. Colours: Okabe-Ito for categories and
// viridis for magnitudes, both readable with the common colour-vision deficiencies.

import { el, percent, svg } from './common.js';

export const STATUS_ORDER = ['confident', 'needs_labels', 'flagged', 'reviewed'];
export const STATUS_COLOURS = {
  confident: '#009E73',
  needs_labels: '#E69F00',
  flagged: '#D55E00',
  reviewed: '#0072B2',
};

// A stacked bar of item statuses, one segment per status, widths proportional to counts.
export function statusBar(statuses, width = 260, height = 16) {
  const total = STATUS_ORDER.reduce((sum, s) => sum + (statuses[s] || 0), 0);
  const chart = svg('svg', { width, height, class: 'status-bar', role: 'img',
    'aria-label': STATUS_ORDER.map((s) => `${s} ${statuses[s] || 0}`).join(', ') });
  let x = 0;
  for (const status of STATUS_ORDER) {
    const n = statuses[status] || 0;
    if (!n) continue;
    const w = (n / total) * width;
    chart.append(svg('rect', { x, y: 0, width: Math.max(w, 1), height, fill: STATUS_COLOURS[status] },
      svg('title', {}, `${status}: ${n.toLocaleString('en')} (${percent(n / total, 1)})`)));
    x += w;
  }
  if (!total) chart.append(svg('rect', { width, height, fill: '#e5e7eb' }));
  return chart;
}

export function statusLegend() {
  return STATUS_ORDER.map((status) =>
    el('span', { class: 'key' }, el('i', { class: `swatch s-${status}` }), status.replace('_', ' ')));
}

// Accuracy as a dot on a 0..1 track with its credible interval as a band.
export function intervalBar(value, [low, high], width = 180, height = 16) {
  const x = (v) => 4 + v * (width - 8);
  return svg('svg', { width, height, class: 'interval', role: 'img',
    'aria-label': `${percent(value, 1)} (${percent(low, 1)} to ${percent(high, 1)})` },
    svg('rect', { x: x(0), y: height / 2 - 1, width: x(1) - x(0), height: 2, fill: '#d1d5db' }),
    svg('rect', { x: x(low), y: 3, width: Math.max(x(high) - x(low), 2), height: height - 6,
      rx: 3, fill: '#56B4E9', 'fill-opacity': 0.55 }),
    svg('circle', { cx: x(value), cy: height / 2, r: 4, fill: '#0072B2' }),
    svg('title', {}, `${percent(value, 1)}, 95 % interval ${percent(low, 1)}–${percent(high, 1)}`));
}

const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e',
  '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

function viridis(t) {
  const scaled = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(scaled), VIRIDIS.length - 2);
  const mix = (a, b) => Math.round(a + (b - a) * (scaled - i));
  const [c0, c1] = [VIRIDIS[i], VIRIDIS[i + 1]].map((c) =>
    [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)));
  return `rgb(${mix(c0[0], c1[0])}, ${mix(c0[1], c1[1])}, ${mix(c0[2], c1[2])})`;
}

// A confusion heatmap: rows the true value, columns the value given, each row
// normalised so a cell is "of the items that are X, the share labelled Y".
export function heatmap(values, counts, { cell = 46 } = {}) {
  // Room for the longest value name: beside the rows, and rotated 45° above the columns.
  const longest = Math.max(...values.map((value) => value.length));
  const label = Math.min(150, 16 + 7 * longest);
  const top = Math.min(110, 20 + 5.5 * longest);
  const size = values.length * cell;
  const chart = svg('svg', { width: Math.max(label + size + top, 270), height: top + size + 24, class: 'heatmap',
    role: 'img', 'aria-label': 'confusion matrix' });
  values.forEach((value, j) => {
    const x = label + j * cell + cell / 2;
    chart.append(svg('text', { x, y: top - 8, transform: `rotate(-45 ${x} ${top - 8})`,
      class: 'axis-label' }, value));
  });
  chart.append(svg('text', { x: label, y: top + size + 16, class: 'tick' },
    'rows: true value · columns: value given'));
  values.forEach((trueValue, i) => {
    const row = counts[i];
    const total = row.reduce((a, b) => a + b, 0);
    chart.append(svg('text', { x: label - 8, y: top + i * cell + cell / 2 + 4, 'text-anchor': 'end',
      class: 'axis-label' }, trueValue));
    row.forEach((count, j) => {
      const share = total ? count / total : 0;
      const x = label + j * cell;
      const y = top + i * cell;
      chart.append(svg('g', {},
        svg('rect', { x, y, width: cell - 2, height: cell - 2, rx: 3,
          fill: total ? viridis(share) : '#f3f4f6' }),
        svg('text', { x: x + cell / 2 - 1, y: y + cell / 2 + 4, 'text-anchor': 'middle',
          class: share > 0.6 ? 'cell dark' : 'cell' }, total ? Math.round(100 * share) : ''),
        svg('title', {}, `true ${trueValue}, given ${values[j]}: ${percent(share, 1)} (${count.toFixed(1)} labels)`)));
    });
  });
  return chart;
}

// Reliability diagram: one point per confidence bin, its area growing with the number
// of gold items in it; the diagonal is perfect calibration.
export function reliabilityDiagram(bins, { width = 380, height = 340 } = {}) {
  const pad = { left: 52, right: 16, top: 14, bottom: 44 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (v) => pad.left + v * plotW;
  const y = (v) => pad.top + (1 - v) * plotH;
  const chart = svg('svg', { width, height, class: 'reliability', role: 'img',
    'aria-label': 'reliability diagram' });
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    chart.append(
      svg('line', { x1: x(0), x2: x(1), y1: y(tick), y2: y(tick), class: 'grid' }),
      svg('line', { x1: x(tick), x2: x(tick), y1: y(0), y2: y(1), class: 'grid' }),
      svg('text', { x: x(tick), y: y(0) + 16, 'text-anchor': 'middle', class: 'tick' }, tick),
      svg('text', { x: x(0) - 8, y: y(tick) + 4, 'text-anchor': 'end', class: 'tick' }, tick));
  }
  chart.append(
    svg('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: 'diagonal' }),
    svg('text', { x: x(0.5), y: height - 6, 'text-anchor': 'middle', class: 'axis-title' },
      'confidence'),
    svg('text', { x: 14, y: y(0.5), transform: `rotate(-90 14 ${y(0.5)})`, 'text-anchor': 'middle',
      class: 'axis-title' }, 'accuracy on gold'));
  const most = Math.max(...bins.map((b) => b.n));
  chart.append(svg('polyline', { class: 'curve',
    points: bins.map((b) => `${x(b.confidence)},${y(b.accuracy)}`).join(' ') }));
  for (const b of bins) {
    // Along the bottom: how many gold items each bin holds, as a bar and a figure.
    const barH = (b.n / most) * 0.2 * plotH;
    chart.append(
      svg('rect', { x: x(b.low) + 1, y: y(0) - barH, width: x(b.high) - x(b.low) - 2, height: barH,
        class: 'count-bar' }),
      svg('text', { x: (x(b.low) + x(b.high)) / 2, y: y(0) - barH - 3, 'text-anchor': 'middle',
        class: 'tick' }, b.n));
  }
  for (const b of bins) {
    chart.append(svg('circle', { cx: x(b.confidence), cy: y(b.accuracy),
      r: 3 + 9 * Math.sqrt(b.n / most), class: 'bin' },
    svg('title', {}, `confidence ${b.low.toFixed(1)}–${b.high.toFixed(1)}: ${b.n} gold items, ` +
      `mean confidence ${percent(b.confidence, 1)}, accuracy ${percent(b.accuracy, 1)}`)));
  }
  return chart;
}

// The model's distribution over values as horizontal bars, the top value highlighted.
export function distributionBars(distribution, width = 300) {
  const entries = Object.entries(distribution);
  const rowH = 22;
  const label = 110;
  const chart = svg('svg', { width, height: entries.length * rowH, class: 'distribution',
    role: 'img', 'aria-label': 'model distribution' });
  const best = Math.max(...entries.map(([, p]) => p));
  entries.forEach(([value, p], i) => {
    const y = i * rowH;
    chart.append(
      svg('text', { x: label - 6, y: y + 15, 'text-anchor': 'end', class: 'axis-label' }, value),
      svg('rect', { x: label, y: y + 4, width: width - label - 50, height: rowH - 8, fill: '#f3f4f6' }),
      svg('rect', { x: label, y: y + 4, width: Math.max((width - label - 50) * p, 1),
        height: rowH - 8, fill: p === best ? '#0072B2' : '#56B4E9' }),
      svg('text', { x: width - 44, y: y + 15, class: 'tick' }, percent(p)));
  });
  return chart;
}
