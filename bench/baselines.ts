/**
 * Baselines measured in the same run as the product, so every product figure is a ratio to
 * what this machine can do at all right now: raw signed HTTP POSTs, raw workflow starts, and
 * the Temporal floor (one workflow per event running one no-op local activity per webhook).
 */
import type { Client } from '@temporalio/client';
import { Agent, request } from 'undici';
import { buildSignedRequest } from '../src/delivery/signed-request';
import { generateWebhookSecret } from '../src/signing/webhook-secret';
import type { emptyWorkflow, floorFanoutWorkflow } from './floor-workflows';
import { closedLoop, type LoadResult } from './load';
import type { BenchReceiver } from './receiver';
import type { ClosedLoopPhase, DeliveryPhase } from './settings';
import { FLOOR_TASK_QUEUE } from './stack';
import { perSecond, sleep, summarize, type LatencySummary } from './stats';

export interface RawPostsResult {
  sent: number;
  /** Distinct webhook-ids the receiver got: the figure counts only these. */
  arrived: number;
  postsPerSecond: number;
  latencyMs: LatencySummary;
}

/** Signed POSTs straight from undici to the receiver: the HTTP ceiling of one Node process. */
export async function rawPosts(receiver: BenchReceiver, phase: ClosedLoopPhase): Promise<RawPostsResult> {
  const arrivals = receiver.phase('raw');
  // The product's outbound pool is 32 connections per origin (src/delivery/http-client.ts).
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  const secret = generateWebhookSecret();
  const envelope = { id: 'evt_raw', type: 'bench.raw', timestamp: new Date().toISOString(), tenant_id: 'ten_raw', data: { n: 1 }, metadata: {} };
  try {
    const result = await closedLoop(phase, async (i) => {
      const { body, headers } = buildSignedRequest({ deliveryId: `dlv_raw_${i}`, envelope, payload: envelope, secrets: [secret], customHeaders: [], now: new Date() });
      const res = await request(receiver.url('raw', i % 100), { method: 'POST', dispatcher: agent, headers, body });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode}`);
    });
    const arrived = arrivals.deliveries.size;
    return { sent: result.ok, arrived, postsPerSecond: perSecond(Math.min(arrived, result.ok), result.elapsedMs), latencyMs: summarize(result.latenciesMs) };
  } finally {
    await agent.close();
  }
}

export interface RawStartsResult {
  started: number;
  failed: number;
  startsPerSecond: number;
  latencyMs: LatencySummary;
}

/** One round of workflow starts of an empty workflow, acknowledged by the server, at the ingest's concurrency. */
export async function rawStartsRound(client: Client, phase: ClosedLoopPhase, tag: string): Promise<LoadResult> {
  const result = await closedLoop(phase, async (i) => {
    await client.workflow.start<typeof emptyWorkflow>('emptyWorkflow', { taskQueue: FLOOR_TASK_QUEUE, workflowId: `start-${tag}-${i}` });
  });
  if (result.ok === 0) throw new Error(`no workflow could be started: ${result.firstError}`);
  return result;
}

/** The figure of raw starts from their rounds, merged. */
export function rawStartsResult(result: LoadResult): RawStartsResult {
  return { started: result.ok, failed: result.failed, startsPerSecond: perSecond(result.ok, result.elapsedMs), latencyMs: summarize(result.latenciesMs) };
}

export interface FloorResult {
  fanOut: number;
  /** Rounds measured, in turn with the product's end-to-end rounds at the same fan-out. */
  rounds: number;
  workflows: number;
  completed: number;
  /** No-op local activities per second: comparable to deliveries/s. */
  activitiesPerSecond: number;
  /** Start to close of each workflow, from the server's own timestamps. */
  latencyMs: LatencySummary;
}

/** One round of the floor: what a FloorResult is made of. */
export interface FloorRound {
  fanOut: number;
  workflows: number;
  completed: number;
  /** First start to last close, by the server's timestamps. */
  elapsedMs: number;
  latenciesMs: number[];
}

/**
 * One round of the floor: starts `phase.count` floor workflows at fan-out `fanOut` (closed loop)
 * and waits for them to close; its time runs from the first start to the last close, both from
 * the server's own timestamps.
 */
export async function floorRound(client: Client, phase: DeliveryPhase, fanOut: number, tag: string): Promise<FloorRound> {
  const prefix = `floor${fanOut}-${tag}-`;
  const sent = await closedLoop(phase, async (i) => {
    await client.workflow.start<typeof floorFanoutWorkflow>('floorFanoutWorkflow', {
      taskQueue: FLOOR_TASK_QUEUE,
      workflowId: `${prefix}${i}`,
      args: [fanOut],
    });
  });
  if (sent.ok === 0) throw new Error(`no floor workflow could be started: ${sent.firstError}`);
  const query = `WorkflowType = 'floorFanoutWorkflow' AND WorkflowId STARTS_WITH '${prefix}'`;
  const deadline = performance.now() + phase.drainMs;
  while (performance.now() < deadline) {
    if ((await client.workflow.count(`${query} AND ExecutionStatus = 'Completed'`)).count >= sent.ok) break;
    await sleep(250);
  }
  let firstStart = Infinity;
  let lastClose = 0;
  const latenciesMs: number[] = [];
  for await (const run of client.workflow.list({ query: `${query} AND ExecutionStatus = 'Completed'` })) {
    const start = run.startTime.getTime();
    const close = run.closeTime?.getTime() ?? start;
    firstStart = Math.min(firstStart, start);
    lastClose = Math.max(lastClose, close);
    latenciesMs.push(close - start);
  }
  return { fanOut, workflows: sent.ok, completed: latenciesMs.length, elapsedMs: latenciesMs.length ? lastClose - firstStart : 0, latenciesMs };
}

/** The floor's figure from its rounds: their activities over their time added up. */
export function floorResult(rounds: readonly FloorRound[]): FloorResult {
  const completed = rounds.reduce((n, r) => n + r.completed, 0);
  return {
    fanOut: rounds[0].fanOut,
    rounds: rounds.length,
    workflows: rounds.reduce((n, r) => n + r.workflows, 0),
    completed,
    activitiesPerSecond: perSecond(completed * rounds[0].fanOut, rounds.reduce((ms, r) => ms + r.elapsedMs, 0)),
    latencyMs: summarize(rounds.flatMap((r) => r.latenciesMs)),
  };
}

export interface FloorUnloadedResult {
  workflows: number;
  /** From the start being acknowledged to the result: comparable to 202-to-arrival. */
  startedToResultMs: LatencySummary;
}

/** One floor workflow at fan-out 1 at a time: the topology's latency with nothing queued. */
export async function floorUnloaded(client: Client, count: number, capMs: number, tag: string): Promise<FloorUnloadedResult> {
  const deadline = performance.now() + capMs;
  const latencies: number[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const handle = await client.workflow.start<typeof floorFanoutWorkflow>('floorFanoutWorkflow', {
      taskQueue: FLOOR_TASK_QUEUE,
      workflowId: `floor-unloaded-${tag}-${i}`,
      args: [1],
    });
    const started = performance.now();
    await handle.result();
    latencies.push(performance.now() - started);
  }
  return { workflows: latencies.length, startedToResultMs: summarize(latencies) };
}
