/**
 * Peak resident memory of a process the bench started, from /proc/<pid>/status (VmHWM): the
 * largest of the process and its descendants.
 */
import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process has exited
  }
}

/** Pids whose parent is `pid`, from /proc/<pid>/stat (field 4). */
function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    // The command name (field 2) is in parentheses and may contain spaces: parse after it.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** VmHWM in MB of `pid`, or the largest of its descendants; null when it is gone. */
export function peakRssMb(pid: number): number | null {
  const own = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  let peak = own ? Number(own[1]) / 1024 : null;
  for (const child of childPids(pid)) {
    const mb = peakRssMb(child);
    if (mb !== null && (peak === null || mb > peak)) peak = mb;
  }
  return peak === null ? null : Math.round(peak);
}
