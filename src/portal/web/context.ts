import type { SessionState } from './types.js';

/** What every page gets: the session, a way to move to another page, and one-shot state. */
export interface PageContext {
  session: SessionState['session'];
  service: SessionState['service'];
  /** Goes to a portal path (pushes history) and renders it. */
  navigate(path: string, flash?: Flash): void;
  /** Set by the page that navigated here (e.g. a secret to show once), then forgotten. */
  flash?: Flash;
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface Flash {
  secret?: { title: string; value: string; note: string };
  message?: string;
  /** A source's ingest URL just made (created or rotated), with a copy button. */
  ingestUrl?: { title: string; value: string; note: string };
}
