/**
 * CPU time by tier, from /proc: each tier is a set of processes (a service's pid and everything
 * it started, e.g. PostgreSQL's backends); a reading sums their user and system time, with the
 * time of children that exited and were reaped by them. Two readings apart give the CPU a phase
 * cost each tier; over the phase's deliveries, the capacity model's inputs (docs/scaling.md).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The tiers the capacity model sizes. */
export const TIERS = ['api', 'worker', 'temporal', 'temporalDatabase', 'database', 'bench'] as const;
export type Tier = (typeof TIERS)[number];

/**
 * Root pids of each tier's processes, read when a reading is taken (a restart changes them). The
 * bench tier (receiver and producers) is this process alone, not its children: the services.
 */
export type TierPids = Partial<Record<Exclude<Tier, 'bench'>, number[]>>;

/** CPU milliseconds each tier has used so far. */
export type CpuReading = Record<Tier, number>;

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

interface ProcStat {
  ppid: number;
  /** utime + stime, and the same of reaped children (cutime + cstime), in clock ticks. */
  own: number;
  children: number;
}

/** Every process's stat line; a process that exits while it is read is skipped. */
function procStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let line: string;
    try {
      line = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // Fields from 3 (state): ppid is 4, utime 14, stime 15, cutime 16, cstime 17.
    const at = (n: number) => Number(fields[n - 3]);
    stats.set(Number(name), { ppid: at(4), own: at(14) + at(15), children: at(16) + at(17) });
  }
  return stats;
}

/** CPU ms of each tier now: each root and its descendants, their own time and their reaped children's. */
export function readCpu(tiers: TierPids): CpuReading {
  const stats = procStats();
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  const treeTicks = (root: number): number => {
    let ticks = 0;
    const queue = [root];
    for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
      const stat = stats.get(pid);
      if (!stat) continue;
      ticks += stat.own + stat.children;
      queue.push(...(children.get(pid) ?? []));
    }
    return ticks;
  };
  const ms = (ticks: number) => (ticks * 1000) / clockTicks();
  const reading = Object.fromEntries(TIERS.map((tier) => [tier, 0])) as CpuReading;
  for (const [tier, pids] of Object.entries(tiers) as [Tier, number[]][]) for (const pid of pids) reading[tier] += ms(treeTicks(pid));
  const own = process.cpuUsage();
  reading.bench = (own.user + own.system) / 1000;
  return reading;
}

/** CPU ms each tier used between two readings. */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuReading {
  return Object.fromEntries(TIERS.map((tier) => [tier, Math.max(0, after[tier] - before[tier])])) as CpuReading;
}

/** Adds readings (the rounds of one phase). */
export function addCpu(...readings: CpuReading[]): CpuReading {
  return Object.fromEntries(TIERS.map((tier) => [tier, readings.reduce((n, r) => n + r[tier], 0)])) as CpuReading;
}
