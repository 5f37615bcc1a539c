import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { dateTime } from '../format.js';
import type { Operation } from '../types.js';
import { definitionList, errorPanel, notice } from '../ui.js';

/** How often a running recover's progress is read again. */
const POLL_INTERVAL_MS = 1000;

/** Default start of the window: a day back, the usual "my receiver was down since yesterday". */
const DEFAULT_WINDOW_MS = 24 * 3_600_000;

/** A Date as a datetime-local input's value, in the browser's time zone: `2026-12-05T14:30`. */
function localInputValue(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The operation's counts and state, as the panel shows them while it runs and once it is done. */
function progressView(op: Operation): HTMLElement {
  const p = op.progress ?? { matched: 0, requeued: 0, skipped: 0, errors: 0 };
  const words = op.status === 'running' ? 'Recovering…' : op.status === 'completed' ? `Recover completed: ${p.requeued} ${p.requeued === 1 ? 'delivery' : 'deliveries'} sent again.` : 'The recover failed.';
  return h(
    'div',
    { class: `notice ${op.status === 'completed' ? 'ok' : op.status === 'failed' ? 'bad' : 'info'}` },
    h('p', {}, words),
    definitionList([
      ['Status', op.status],
      ['Matched', String(p.matched)],
      ['Sent again', String(p.requeued)],
      ['Skipped', String(p.skipped)],
      ['Errors', String(p.errors)],
      ['Since', dateTime(op.filter.since)],
      ['Started', dateTime(op.createdAt)],
    ]),
  );
}

/**
 * "Recover failed deliveries since…" on a webhook's page (full sessions only): starts
 * `POST /webhooks/{id}/recover` and follows `GET /operations/{id}` until it is done. Delivered
 * deliveries are never sent again; skipped ones were no longer failed when their turn came.
 */
export function recoverPanel(webhookId: string): HTMLElement {
  const since = h('input', { type: 'datetime-local', id: 'recover-since', required: true, value: localInputValue(new Date(Date.now() - DEFAULT_WINDOW_MS)), 'aria-describedby': 'recover-hint' });
  const button = h('button', { type: 'submit', class: 'secondary' }, 'Recover');
  const status = h('div', { class: 'recover-status', role: 'status', 'aria-live': 'polite' });
  const panel = h('section', { class: 'recover', 'aria-labelledby': 'recover-title' });

  const follow = async (operationId: string) => {
    for (;;) {
      const { operation } = await api<{ operation: Operation }>('GET', `/operations/${encodeURIComponent(operationId)}`);
      // The user went to another page: stop asking.
      if (!panel.isConnected) return;
      mount(status, progressView(operation));
      if (operation.status !== 'running') return;
      await sleep(POLL_INTERVAL_MS);
    }
  };

  const form = h(
    'form',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const start = new Date(since.value);
        if (Number.isNaN(start.getTime())) return mount(status, errorPanel(new Error('give the date and time to recover from')));
        button.disabled = true;
        try {
          mount(status, notice('Starting the recover…'));
          const started = await api<{ operationId: string; alreadyRunning?: boolean }>('POST', `/webhooks/${encodeURIComponent(webhookId)}/recover`, { since: start.toISOString() });
          panel.querySelector('.already')?.remove();
          if (started.alreadyRunning) status.before(h('p', { class: 'hint already' }, 'A recover of this webhook was already running: this is its progress.'));
          await follow(started.operationId);
        } catch (err) {
          mount(status, errorPanel(err));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'recover-since' }, 'Recover failed deliveries since'),
    h('div', { class: 'row' }, since, button),
  );

  mount(
    panel,
    h('h2', { id: 'recover-title' }, 'Recover failed deliveries'),
    h(
      'p',
      { class: 'hint', id: 'recover-hint' },
      'Once your endpoint works again: sends again every delivery that failed since then (your local time), 10 a second. Delivered ones are never sent again.',
    ),
    form,
    status,
  );
  return panel;
}
