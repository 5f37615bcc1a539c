/**
 * Turns the phases' results into figures: each with its baseline from the same run, the ratio
 * to it, and the issue's target printed pass/short. Writes the JSON, and the markdown table.
 */
import type { FloorResult, FloorUnloadedResult, RawPostsResult, RawStartsResult } from './baselines';
import type { BigFanoutResult, DeliveryResult, IngestResult, RetryStormResult } from './product';
import type { PortalPageResult } from './portal-page';
import { LOG_PAGES, type LogPagesResult } from './log-pages';
import type { LatencySummary } from './stats';
import type { CapacityFigure, CapacityResults } from './capacity';
import type { NeighboursRound } from './noisy-neighbours';
import type { TransformedRound } from './transformed';
import type { TracingResult } from './tracing';
import type { Tier } from './cpu-meter';

export interface PhaseResults {
  rawPosts?: RawPostsResult;
  rawStarts?: RawStartsResult;
  floor1?: FloorResult;
  floor10?: FloorResult;
  floorUnloaded?: FloorUnloadedResult;
  ingestSaturation?: IngestResult;
  ingestFixed?: IngestResult;
  e2e1?: DeliveryResult;
  e2e10?: DeliveryResult;
  loadSteps: (DeliveryResult & { fraction: number })[];
  oneProducer?: DeliveryResult;
  retryStorm?: RetryStormResult;
  bigFanout?: BigFanoutResult;
  portalPage?: PortalPageResult;
  logPages?: LogPagesResult;
  peakRssMb: { api: number | null; worker: number | null };
  /** The same after the warm-up: the worker's includes bundling its workflow code. */
  peakRssAfterStartupMb: { api: number | null; worker: number | null };
  /** The peak so far after each phase: which phase raised it. */
  peakRssAfterPhaseMb: { phase: string; api: number | null; worker: number | null }[];
  /** The capacity model's inputs (docs/scaling.md). */
  capacity?: CapacityResults;
  /** Noisy neighbours: the quiet round, then the noisy one. */
  neighbours?: { quiet?: NeighboursRound; noisy?: NeighboursRound };
  /** A transformation's cost: the plain round, then the transformed one. */
  transformations?: { plain?: TransformedRound; transformed?: TransformedRound };
  /** Tracing's cost: the untraced rounds, the traced ones, the traced pair's peak RSS, the sink's export requests. */
  tracing?: { off?: TracingResult; on?: TracingResult; tracedPeakRssMb: { api: number | null; worker: number | null }; exports: number; spans: number };
}

export type Status = 'pass' | 'short' | 'n/a';

export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  baseline?: { name: string; value: number | null };
  /** value / baseline value. */
  ratio?: number | null;
  /** The issue's target, e.g. ">= 0.6 x baseline" or "<= 150 ms". */
  target?: string;
  status?: Status;
  note?: string;
}

/** value / base to 2 significant digits (0.0042, 0.18, 3.2, 14). */
const ratio = (value: number | null | undefined, base: number | null | undefined) =>
  value === null || value === undefined || !base ? null : Number((value / base).toPrecision(2));

/** A result that did not count every expected delivery cannot pass, whatever its rate. */
const incomplete = (r: { complete: boolean; delivered: number; expected?: number; webhooks?: number } | undefined) =>
  r && !r.complete ? `incomplete: ${r.delivered} of ${r.expected ?? r.webhooks} delivered within the cap` : undefined;

function atLeast(value: number | null | undefined, base: number | null | undefined, factor: number, blocked?: string): Pick<Figure, 'ratio' | 'target' | 'status' | 'note'> {
  const r = ratio(value, base);
  return { ratio: r, target: `>= ${factor} x baseline`, status: blocked || r === null ? 'short' : r >= factor ? 'pass' : 'short', note: blocked };
}

function atMost(value: number | null | undefined, limit: number, unit: string, blocked?: string): Pick<Figure, 'target' | 'status' | 'note'> {
  return { target: `<= ${limit} ${unit}`, status: blocked || value === null || value === undefined ? 'short' : value <= limit ? 'pass' : 'short', note: blocked };
}

/** The tenant logs' target: a page of a tenant with 100,000 deliveries costs at most this many times the same page of one with a few hundred. */
const LOG_PAGE_RATIO_TARGET = 2;

function logPageFigures(r: LogPagesResult | undefined): Figure[] {
  return LOG_PAGES.map((page) => {
    const p = r?.pages[page];
    const value = p?.big.p50 ?? null;
    const base = p?.baseline.p50 ?? null;
    const x = ratio(value, base);
    return {
      name: `tenant logs: ${page} p50 (${r?.deliveries ?? '?'} deliveries)`,
      value,
      unit: 'ms',
      baseline: { name: `the same page, ${r?.baselineDeliveries ?? '?'} deliveries (ms)`, value: base },
      ratio: x,
      target: `<= ${LOG_PAGE_RATIO_TARGET} x baseline`,
      status: x === null || !p?.rows ? 'short' : x <= LOG_PAGE_RATIO_TARGET ? 'pass' : 'short',
      note: p ? `p95 ${p.big.p95} ms (baseline ${p.baseline.p95} ms) over ${p.big.count} loads; ${p.rows} rows; seeded in ${Math.round((r?.seedMs ?? 0) / 1000)} s` : undefined,
    };
  });
}

function latencyFigures(name: string, summary: LatencySummary | undefined, baseline?: Figure['baseline']): Figure[] {
  return (['p50', 'p95', 'p99'] as const).map((p) => ({
    name: `${name} ${p}`,
    value: summary?.[p] ?? null,
    unit: 'ms',
    ...(baseline ? { baseline, ratio: ratio(summary?.[p], baseline.value) } : {}),
  }));
}

export function figures(r: PhaseResults, quick: boolean): Figure[] {
  const floor1 = { name: 'local-activity floor, fan-out 1 (activities/s)', value: r.floor1?.activitiesPerSecond ?? null };
  const floor10 = { name: 'local-activity floor, fan-out 10 (activities/s)', value: r.floor10?.activitiesPerSecond ?? null };
  const rawStarts = { name: 'raw workflow starts/s', value: r.rawStarts?.startsPerSecond ?? null };
  const rawPosts = { name: 'raw signed POSTs/s', value: r.rawPosts?.postsPerSecond ?? null };
  const portalBaseline = { name: 'portal page without API calls p50 (ms)', value: r.portalPage?.baselineMs.p50 ?? null };
  const inPage = r.portalPage?.breakdown;
  const floorP50 = { name: 'floor unloaded p50 (ms)', value: r.floorUnloaded?.startedToResultMs.p50 ?? null };
  const half = r.loadSteps.find((s) => s.fraction === 0.5);
  const storm = r.retryStorm;
  const big = r.bigFanout;
  const e2e10Rate = { name: 'deliveries/s at fan-out 10', value: r.e2e10?.deliveriesPerSecond ?? null };
  return [
    { name: rawPosts.name, value: rawPosts.value, unit: '/s', note: r.rawPosts && r.rawPosts.arrived < r.rawPosts.sent ? `${r.rawPosts.sent - r.rawPosts.arrived} not seen by the receiver` : undefined },
    { name: rawStarts.name, value: rawStarts.value, unit: '/s' },
    { name: floor1.name, value: floor1.value, unit: '/s', note: r.floor1 && r.floor1.completed < r.floor1.workflows ? `${r.floor1.completed} of ${r.floor1.workflows} completed` : undefined },
    { name: floor10.name, value: floor10.value, unit: '/s', note: r.floor10 && r.floor10.completed < r.floor10.workflows ? `${r.floor10.completed} of ${r.floor10.workflows} completed` : undefined },
    { name: 'floor fan-out 1 start-to-close p50 at saturation', value: r.floor1?.latencyMs.p50 ?? null, unit: 'ms' },
    { name: 'floor unloaded: one workflow at a time, started-to-result p50', value: floorP50.value, unit: 'ms' },
    { name: 'ingest events/s at saturation', value: r.ingestSaturation?.eventsPerSecond ?? null, unit: '/s', baseline: rawStarts, ...atLeast(r.ingestSaturation?.eventsPerSecond, rawStarts.value, 0.7) },
    ...latencyFigures('ingest latency at saturation', r.ingestSaturation?.latencyMs),
    { name: `ingest events/s, open loop at ${r.ingestFixed?.offeredPerSecond ?? '?'}/s offered`, value: r.ingestFixed?.eventsPerSecond ?? null, unit: '/s', note: r.ingestFixed?.skipped ? `${r.ingestFixed.skipped} sends skipped (256 in flight)` : undefined },
    ...latencyFigures('ingest latency at the fixed rate', r.ingestFixed?.latencyMs),
    { name: 'deliveries/s at fan-out 1', value: r.e2e1?.deliveriesPerSecond ?? null, unit: '/s', baseline: floor1, ...atLeast(r.e2e1?.deliveriesPerSecond, floor1.value, 0.6, incomplete(r.e2e1)) },
    { name: 'deliveries/s at fan-out 1 vs raw POSTs', value: r.e2e1?.deliveriesPerSecond ?? null, unit: '/s', baseline: rawPosts, ratio: ratio(r.e2e1?.deliveriesPerSecond, rawPosts.value) },
    ...latencyFigures('202-to-arrival at fan-out 1 (saturation)', r.e2e1?.acceptedToArrivalMs, floorP50),
    { name: e2e10Rate.name, value: e2e10Rate.value, unit: '/s', baseline: floor10, ...atLeast(e2e10Rate.value, floor10.value, 0.6, incomplete(r.e2e10)) },
    ...latencyFigures('202-to-arrival at fan-out 10 (saturation)', r.e2e10?.acceptedToArrivalMs, floorP50),
    { name: '202-to-arrival p50, one producer', value: r.oneProducer?.acceptedToArrivalMs.p50 ?? null, unit: 'ms', baseline: floorP50, ratio: ratio(r.oneProducer?.acceptedToArrivalMs.p50, floorP50.value), ...atMost(r.oneProducer?.acceptedToArrivalMs.p50, 150, 'ms', incomplete(r.oneProducer)) },
    { name: `202-to-arrival p50 at half the saturating rate (${half?.offeredPerSecond ?? '?'} events/s)`, value: half?.acceptedToArrivalMs.p50 ?? null, unit: 'ms', baseline: floorP50, ratio: ratio(half?.acceptedToArrivalMs.p50, floorP50.value), ...atMost(half?.acceptedToArrivalMs.p50, 500, 'ms', half ? incomplete(half) : 'not measured') },
    ...latencyFigures('202-to-arrival at half the saturating rate', half?.acceptedToArrivalMs),
    {
      name: `retry storm (${storm ? Math.round((storm.failedFirst / Math.max(1, storm.firstAttempts)) * 100) : '?'}% of first attempts answered 500): first attempts/s at fan-out 10`,
      value: storm?.firstAttemptsPerSecond ?? null,
      unit: '/s',
      baseline: e2e10Rate,
      ...atLeast(storm?.firstAttemptsPerSecond, e2e10Rate.value, 0.5, incomplete(storm)),
      note: [incomplete(storm), '"no collapse" bound chosen by the bench: >= 0.5 x the storm-free rate'].filter(Boolean).join('; '),
    },
    { name: 'retry storm: every delivery delivered after', value: storm?.allDeliveredMs ?? null, unit: 'ms', note: storm ? `${storm.deliveredByRetry} of ${storm.failedFirst} failed first attempts delivered by a retry` : undefined },
    {
      name: "noisy neighbours (fan-out 10; one webhook never answers, one limited to 5/s): the other eight's deliveries/s",
      value: r.neighbours?.noisy?.deliveriesPerSecond ?? null,
      unit: '/s',
      baseline: { name: "the same eight's deliveries/s with ten healthy webhooks", value: r.neighbours?.quiet?.deliveriesPerSecond ?? null },
      ...atLeast(r.neighbours?.noisy?.deliveriesPerSecond, r.neighbours?.quiet?.deliveriesPerSecond, 0.8, incomplete(r.neighbours?.noisy && { ...r.neighbours.noisy, complete: r.neighbours.noisy.delivered === r.neighbours.noisy.expected }) ?? incomplete(r.neighbours?.quiet && { ...r.neighbours.quiet, complete: r.neighbours.quiet.delivered === r.neighbours.quiet.expected })),
      note: r.neighbours?.noisy ? `the never-answering receiver got ${r.neighbours.noisy.hungRequests} requests, the limited one ${r.neighbours.noisy.limitedDelivered} deliveries during the round; target of issue 24` : undefined,
    },
    {
      name: 'transformed deliveries (fan-out 10, each webhook with a trivial transformation): deliveries/s',
      value: r.transformations?.transformed?.deliveriesPerSecond ?? null,
      unit: '/s',
      baseline: { name: 'the same without transformations', value: r.transformations?.plain?.deliveriesPerSecond ?? null },
      ...atLeast(
        r.transformations?.transformed?.deliveriesPerSecond,
        r.transformations?.plain?.deliveriesPerSecond,
        0.8,
        incomplete(r.transformations?.transformed && { ...r.transformations.transformed, complete: r.transformations.transformed.delivered === r.transformations.transformed.expected }) ??
          incomplete(r.transformations?.plain && { ...r.transformations.plain, complete: r.transformations.plain.delivered === r.transformations.plain.expected }),
      ),
      note: r.transformations?.transformed
        ? `${r.transformations.transformed.transformedRequests} of ${r.transformations.transformed.requests} requests carried the transformation's header (plain round: ${r.transformations.plain?.transformedRequests ?? '?'}); target of issue 25`
        : 'target of issue 25',
    },
    {
      name: 'traced deliveries (fan-out 10, tracing on, spans sent to a local OTLP sink): deliveries/s',
      value: r.tracing?.on?.deliveriesPerSecond ?? null,
      unit: '/s',
      baseline: { name: 'the same with tracing off', value: r.tracing?.off?.deliveriesPerSecond ?? null },
      ...atLeast(
        r.tracing?.on?.deliveriesPerSecond,
        r.tracing?.off?.deliveriesPerSecond,
        0.8,
        incomplete(r.tracing?.on && { ...r.tracing.on, complete: r.tracing.on.delivered === r.tracing.on.expected }) ??
          incomplete(r.tracing?.off && { ...r.tracing.off, complete: r.tracing.off.delivered === r.tracing.off.expected }),
      ),
      note: r.tracing?.on
        ? `the sink received ${r.tracing.spans} spans in ${r.tracing.exports} export requests (warm-up included; ${(r.tracing.on.spans / Math.max(1, r.tracing.on.delivered)).toFixed(1)} per delivery of the measured rounds); traced worker / API peak RSS ${r.tracing.tracedPeakRssMb.worker ?? '?'} / ${r.tracing.tracedPeakRssMb.api ?? '?'} MB; bound chosen by the bench (issue 26)`
        : 'bound chosen by the bench (issue 26)',
    },
    {
      name: `one event to ${big?.webhooks ?? '?'} webhooks: last arrival after`,
      value: big?.lastArrivalMs ?? null,
      unit: 'ms',
      baseline: { name: `${big?.webhooks ?? '?'} activities at the fan-out-10 floor (ms)`, value: big && floor10.value ? Math.round((big.webhooks / floor10.value) * 1000) : null },
      ratio: ratio(big?.lastArrivalMs, big && floor10.value ? (big.webhooks / floor10.value) * 1000 : null),
      ...(quick || (big && big.webhooks !== 10_000) ? { target: '<= 40000 ms for 10,000', status: 'n/a' as const, note: 'quick run: fewer webhooks' } : atMost(big?.lastArrivalMs, 40_000, 'ms', incomplete(big))),
    },
    { name: 'big fan-out deliveries/s', value: big?.deliveriesPerSecond ?? null, unit: '/s', baseline: floor10, ratio: ratio(big?.deliveriesPerSecond, floor10.value), note: incomplete(big) },
    {
      name: `portal deliveries page load p50 (${r.portalPage?.deliveries ?? '?'} deliveries, chromium)`,
      value: r.portalPage?.loadMs.p50 ?? null,
      unit: 'ms',
      baseline: portalBaseline,
      ratio: ratio(r.portalPage?.loadMs.p50, portalBaseline.value),
      ...atMost(r.portalPage?.loadMs.p50, 200, 'ms', r.portalPage && r.portalPage.rowsShown === 0 ? 'no rows shown' : undefined),
      note: r.portalPage
        ? `p95 ${r.portalPage.loadMs.p95} ms over ${r.portalPage.loadMs.count} loads; ${r.portalPage.rowsShown} rows on the first page; baseline (portal page without API calls) p50 ${r.portalPage.baselineMs.p50} ms; webhook page to its chart drawn p50 ${r.portalPage.chartPageMs.p50} ms, p95 ${r.portalPage.chartPageMs.p95} ms; by the page's own clock: rows drawn ${inPage?.deliveries.drawn} ms (deliveries answered ${inPage?.deliveries.api['/portal/api/v1/webhooks/{id}/deliveries']?.end} ms), baseline heading ${inPage?.baseline.drawn} ms, chart ${inPage?.chart.drawn} ms`
        : undefined,
    },
    ...logPageFigures(r.logPages),
    { name: 'worker peak RSS', value: r.peakRssMb.worker, unit: 'MB', ...atMost(r.peakRssMb.worker, 400, 'MB') },
    { name: 'API peak RSS', value: r.peakRssMb.api, unit: 'MB', ...atMost(r.peakRssMb.api, 200, 'MB') },
    { name: 'worker peak RSS after start-up (bundling included)', value: r.peakRssAfterStartupMb.worker, unit: 'MB' },
    { name: 'API peak RSS after start-up', value: r.peakRssAfterStartupMb.api, unit: 'MB' },
  ];
}

const fmt = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '—' : `${v.toLocaleString('en-US', { maximumFractionDigits: 1 })}${unit}`);

export function markdownTable(list: readonly Figure[]): string {
  const rows = list.map((f) => {
    const unit = f.unit === '/s' ? '/s' : ` ${f.unit}`;
    const base = f.baseline ? `${fmt(f.baseline.value)} (${f.baseline.name})` : '';
    const ratioText = f.ratio === undefined ? '' : f.ratio === null ? '—' : `${f.ratio}x`;
    const result = f.status ? `**${f.status}** (${f.target})` : '';
    return `| ${f.name} | ${fmt(f.value, unit)} | ${base} | ${ratioText} | ${result} | ${f.note ?? ''} |`;
  });
  return ['| figure | value | baseline (same run) | ratio | target | note |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

const TIER_NAMES: [Tier | 'services', string][] = [
  ['api', 'API'],
  ['worker', 'worker processes'],
  ['temporal', 'Temporal services'],
  ['temporalDatabase', "Temporal's PostgreSQL (cluster; the dev server's SQLite is in its process)"],
  ['database', 'MongoDB-wire server (FerretDB and its PostgreSQL)'],
  ['services', 'all of the above'],
  ['bench', 'the bench itself (receiver, producers; not in the model)'],
];

/** The capacity model's inputs: CPU ms per delivery by tier and Temporal Cloud Actions per delivery, by Temporal and fan-out; then the cluster's topologies. */
export function capacityTable(c: CapacityResults): string {
  const columns: [string, CapacityFigure | undefined][] = [
    ['dev server, fan-out 1', c.devServer.fanOut1],
    ['dev server, fan-out 10', c.devServer.fanOut10],
    ['cluster, fan-out 1', c.cluster?.fanOut1],
    ['cluster, fan-out 10', c.cluster?.fanOut10],
  ];
  const row = (name: string, of: (f: CapacityFigure) => number | undefined) => `| ${name} | ${columns.map(([, f]) => fmt(f ? of(f) : null)).join(' | ')} |`;
  const kinds = [...new Set(columns.flatMap(([, f]) => Object.keys(f?.actions?.byKind ?? {})))].sort();
  const lines = [
    `| per delivery | ${columns.map(([name]) => name).join(' | ')} |`,
    `|---|${columns.map(() => '---').join('|')}|`,
    row('deliveries/s (at saturation, this machine)', (f) => f.deliveriesPerSecond),
    ...TIER_NAMES.map(([tier, name]) => row(`CPU ms: ${name}`, (f) => f.cpu?.perDeliveryMs[tier])),
    row('Temporal Cloud Actions', (f) => f.actions?.total),
    ...kinds.map((kind) => row(`Actions: ${kind}`, (f) => f.actions?.byKind[kind] ?? 0)),
  ];
  const storm = c.devServer.retryStorm;
  if (storm) lines.push('', `Retry storm (dev server, fan-out 10, ~30 % of first attempts retried once): ${storm.total} Actions per delivery over ${storm.deliveries} deliveries (${Object.entries(storm.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}).`);
  if (c.cluster?.scale.length) {
    lines.push('', '| cluster topology (fan-out 1, saturation) | deliveries/s | CPU ms per delivery (all services) | worker | Temporal services |', '|---|---|---|---|---|');
    for (const step of c.cluster.scale) {
      lines.push(`| ${step.historyProcesses} history, ${step.workers} worker process${step.workers > 1 ? 'es' : ''} | ${fmt(step.result.deliveriesPerSecond)}${step.result.complete ? '' : ` (incomplete: ${step.result.delivered} of ${step.result.expected})`} | ${fmt(step.cpu?.perDeliveryMs.services)} | ${fmt(step.cpu?.perDeliveryMs.worker)} | ${fmt(step.cpu?.perDeliveryMs.temporal)} |`);
    }
  }
  return lines.join('\n');
}
