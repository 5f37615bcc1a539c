/**
 * Peak resident memory of a process the bench started, from /proc/<pid>/status (VmHWM). The API
 * and the worker run directly under node (src/embedded/service-command.ts), with no launcher
 * between: the figure is the service's own.
 */
import { readFileSync } from 'node:fs';

/** VmHWM in MB of `pid`; null when it is gone. */
export function peakRssMb(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null; // the process has exited
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return hwm ? Math.round(Number(hwm[1]) / 1024) : null;
}
