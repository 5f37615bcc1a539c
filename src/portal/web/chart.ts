import { h, svg } from './dom.js';
import { duration } from './format.js';
import type { WebhookStats } from './types.js';

/**
 * Two SVG charts drawn here (no chart library): deliveries per hour, stacked by outcome, and the
 * duration of each recent attempt. Drawn at the width of the page (so labels keep their size on a
 * 360 px screen); colours come from the stylesheet; each has a text summary for screen readers.
 */

const OUTCOMES = [
  ['delivered', 'Delivered'],
  ['failed', 'Failed'],
  ['inProgress', 'Pending or retrying'],
  ['canceled', 'Canceled'],
] as const;

/** Width of the drawing: the page's content width, within bounds. */
let W = 720;
const H = 200;
const PAD = { left: 40, right: 8, top: 10, bottom: 24 };

/** A step of about a quarter of `max`, and the top of the axis: `max` rounded up to a whole step. */
function scale(max: number): { step: number; top: number } {
  const step = Math.max(1, Math.ceil(max / 4));
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}

/** The drawing with its horizontal grid; returns it with the axis top values are scaled to. */
function frame(label: string, max: number, format: (v: number) => string): { chart: SVGSVGElement; top: number } {
  W = Math.round(Math.min(1100, Math.max(300, (document.getElementById('main')?.clientWidth ?? 720) - 32)));
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'chart' });
  const plotH = H - PAD.top - PAD.bottom;
  const { step, top } = scale(max);
  for (let tick = 0; tick <= top; tick += step) {
    const y = PAD.top + plotH - (tick / top) * plotH;
    chart.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }), svg('text', { x: PAD.left - 4, y: y + 4, class: 'tick', 'text-anchor': 'end' }, format(tick)));
  }
  return { chart, top };
}

function dayLabels(chart: SVGSVGElement, from: number, to: number): void {
  const plotW = W - PAD.left - PAD.right;
  const first = new Date(from);
  first.setHours(24, 0, 0, 0);
  for (let t = first.getTime(); t < to; t += 86_400_000) {
    const x = PAD.left + ((t - from) / (to - from)) * plotW;
    chart.append(svg('line', { x1: x, x2: x, y1: PAD.top, y2: H - PAD.bottom, class: 'day' }));
    // A label too near the right edge would be cut off.
    if (x < W - 50) chart.append(svg('text', { x: x + 3, y: H - 8, class: 'tick' }, new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })));
  }
}

export function deliveriesChart(stats: WebhookStats): HTMLElement {
  const totals = { delivered: 0, failed: 0, inProgress: 0, canceled: 0 };
  let max = 0;
  for (const hour of stats.hours) {
    for (const [key] of OUTCOMES) totals[key] += hour[key];
    max = Math.max(max, hour.delivered + hour.failed + hour.inProgress + hour.canceled);
  }
  const summary = `Last ${stats.hours.length} hours: ${OUTCOMES.map(([k, label]) => `${totals[k]} ${label.toLowerCase()}`).join(', ')}.`;
  const { chart, top } = frame(`Deliveries per hour by outcome. ${summary}`, max, String);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = plotW / Math.max(1, stats.hours.length);
  stats.hours.forEach((hour, i) => {
    let y = PAD.top + plotH;
    for (const [key, label] of OUTCOMES) {
      const value = hour[key];
      if (!value) continue;
      const height = (value / top) * plotH;
      y -= height;
      chart.append(
        svg(
          'rect',
          { x: PAD.left + i * barW + barW * 0.1, y, width: Math.max(1, barW * 0.8), height, class: `bar ${key}` },
          svg('title', {}, `${new Date(hour.start).toLocaleString()}: ${value} ${label.toLowerCase()}`),
        ),
      );
    }
  });
  dayLabels(chart, new Date(stats.from).getTime(), new Date(stats.to).getTime());
  return h(
    'figure',
    { class: 'chart-box' },
    chart,
    h('figcaption', {}, h('ul', { class: 'legend' }, OUTCOMES.map(([key, label]) => h('li', {}, h('span', { class: `swatch ${key}` }), `${label}: ${totals[key]}`))), h('p', { class: 'muted' }, summary)),
  );
}

export function latencyChart(stats: WebhookStats): HTMLElement {
  const attempts = stats.attempts;
  if (!attempts.length) return h('p', { class: 'empty' }, 'No attempts in this period yet.');
  const max = Math.max(...attempts.map((a) => a.durationMs), 1);
  const sorted = [...attempts].map((a) => a.durationMs).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const slowest = sorted[sorted.length - 1];
  const summary = `${attempts.length} recent attempts: median ${duration(median)}, slowest ${duration(slowest)}.`;
  const { chart, top } = frame(`Attempt duration. ${summary}`, max, (v) => duration(v));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  attempts.forEach((a, i) => {
    const x = PAD.left + ((i + 0.5) / attempts.length) * plotW;
    const ok = a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
    chart.append(
      svg(
        'circle',
        { cx: x, cy: PAD.top + plotH - (a.durationMs / top) * plotH, r: 4, class: ok ? 'point delivered' : 'point failed' },
        svg('title', {}, `${new Date(a.startedAt).toLocaleString()}: attempt ${a.attempt}, ${duration(a.durationMs)}, ${a.statusCode ?? a.error ?? 'no answer'}`),
      ),
    );
  });
  return h(
    'figure',
    { class: 'chart-box' },
    chart,
    h('figcaption', {}, h('ul', { class: 'legend' }, h('li', {}, h('span', { class: 'swatch delivered' }), '2xx'), h('li', {}, h('span', { class: 'swatch failed' }), 'other answer or error')), h('p', { class: 'muted' }, summary)),
  );
}
