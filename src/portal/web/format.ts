/** How times, durations and rates read in the portal (the browser's locale and time zone). */

/** One formatter for every date: `toLocaleString` builds a new one per call (a list has 100 dates). */
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_TIME.format(d);
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** "97.5 % (39 of 40)", or "no deliveries yet". */
export function successRate(success: number, failure: number): string {
  const total = success + failure;
  if (total === 0) return 'no deliveries yet';
  const rate = (success / total) * 100;
  return `${Number.isInteger(rate) ? rate : rate.toFixed(1)} % (${success} of ${total})`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
