/** The chaos run's books and checks as a markdown table, for the terminal and docs/reliability.md. */
import type { ChaosResult } from './chaos-run';

export function chaosTable(r: ChaosResult): string {
  const t = r.tally;
  const rows: [string, string | number][] = [
    ['events sent / accepted (202)', `${r.settings.events} / ${r.accepted}`],
    ['deliveries expected', t.expected],
    ['delivered (receiver answered 2xx)', t.delivered],
    ['failed (recorded failed, not received)', t.failed],
    ['still on their way at the end (workflow running)', t.inFlight],
    ['**lost**', `**${t.lost}**`],
    ['not looked up in Temporal before the cap', t.unchecked],
    ['duplicates seen by the receiver (webhook-ids / extra 2xx)', `${t.duplicateDeliveries} / ${t.duplicateRequests}`],
    ['received for events never acknowledged', t.receivedUnaccepted],
    ['product counts (deliveries24h total / successful / failed)', `${r.recorded.total} / ${r.recorded.successful} / ${r.recorded.failed}`],
    ['receiver requests / 500s / hangs', `${r.receiver.requests} / ${r.receiver.errors} / ${r.receiver.hangs}`],
    ['worker kills / restarts; API restarts', `${r.workerKills} / ${r.workerRestarts}; ${r.apiRestarts}`],
    ['ingestion answers', Object.entries(r.ingestion.answers).map(([s, a]) => `${s}: ${a.count} (max ${a.maxMs} ms)`).join(', ')],
    ['/readyz answers', Object.entries(r.readiness).map(([s, a]) => `${s}: ${a.count} (max ${a.maxMs} ms)`).join(', ')],
    ['start-up / ingest / settle', `${(r.startupMs / 1000).toFixed(0)} s / ${(r.ingestMs / 1000).toFixed(0)} s / ${(r.drainMs / 1000).toFixed(0)} s`],
  ];
  const lines = ['| figure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)];
  lines.push('', '| check | result | detail |', '|---|---|---|', ...r.checks.map((c) => `| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'} | ${c.detail} |`));
  lines.push('', '| fault | at | broken for |', '|---|---|---|');
  const kills = r.faults.filter((f) => f.fault === 'worker SIGKILL');
  for (const f of r.faults.filter((x) => x.fault !== 'worker SIGKILL')) lines.push(`| ${f.fault} | ${f.at} | ${(f.ms / 1000).toFixed(1)} s |`);
  if (kills.length) lines.push(`| worker SIGKILL x${kills.length} | ${kills[0].at} … ${kills.at(-1)!.at} | until restarted |`);
  return lines.join('\n');
}
