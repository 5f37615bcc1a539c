/**
 * The latency-by-offered-load chart as a self-contained SVG, drawn by this file (no chart
 * library, nothing downloaded): x is the offered event rate, y the latency on a log scale.
 */

export interface ChartSeries {
  name: string;
  color: string;
  /** [offered events/s, latency ms]; points with a null latency are left out. */
  points: [number, number | null][];
}

const W = 760;
const H = 440;
const M = { left: 70, right: 170, top: 44, bottom: 50 };

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function latencyChart(title: string, subtitle: string, series: readonly ChartSeries[]): string {
  const points = series.flatMap((s) => s.points.filter((p): p is [number, number] => p[1] !== null));
  const xMax = Math.max(1, ...points.map(([x]) => x)) * 1.1;
  const yMinExp = Math.floor(Math.log10(Math.max(1, Math.min(...points.map(([, y]) => Math.max(1, y)), 1000))));
  const yMaxExp = Math.max(yMinExp + 1, Math.ceil(Math.log10(Math.max(10, ...points.map(([, y]) => y)))));
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((Math.log10(Math.max(1, y)) - yMinExp) / (yMaxExp - yMinExp)) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="18" font-size="14">${escape(title)}</text>`,
    `<text x="${M.left}" y="33" fill="#666">${escape(subtitle)}</text>`,
  ];
  for (let e = yMinExp; e <= yMaxExp; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1000 ? `${10 ** e / 1000} s` : `${10 ** e} ms`}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const x = (xMax / 5) * i;
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${Math.round(x * 10) / 10}</text>`);
  }
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">offered load (events/s)</text>`);
  out.push(`<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">latency (log scale)</text>`);
  out.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`);
  series.forEach((s, i) => {
    const drawn = s.points.filter((p): p is [number, number] => p[1] !== null).sort((a, b) => a[0] - b[0]);
    if (drawn.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${drawn.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"/>`);
    for (const [x, y] of drawn) out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${s.color}"><title>${escape(s.name)}: ${y} ms at ${x}/s</title></circle>`);
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${W - M.right + 38}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
