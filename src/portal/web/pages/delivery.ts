import { api } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { dateTime, duration, json } from '../format.js';
import type { DeliveryDetail } from '../types.js';
import { confirmAction, definitionList, errorPanel, notice, statusBadge } from '../ui.js';

/** How often a delivery still in progress is read again: soon at first, then less often. */
const POLL_MS = { first: 1000, max: 10_000 } as const;

/**
 * One delivery: every attempt (time, status, duration, error, response excerpt), retry, and the
 * event's payload. While it is pending or retrying the page reads it again and redraws when it
 * moved on, until it settles or the user leaves the page.
 */
export async function deliveryPage(main: HTMLElement, ctx: PageContext, known?: DeliveryDetail, pollMs: number = POLL_MS.first): Promise<void> {
  const id = ctx.params.id;
  const delivery = known ?? (await api<{ delivery: DeliveryDetail }>('GET', `/deliveries/${encodeURIComponent(id)}`)).delivery;
  const feedback = h('div', { class: 'feedback', tabindex: -1 });
  const payload = h('section', { 'aria-labelledby': 'payload-title' }, h('h2', { id: 'payload-title' }, 'Event payload'), h('p', { class: 'loading' }, 'Loading…'));

  const command = (label: string, path: string, question: string, detail: string, message: string) =>
    h(
      'button',
      {
        type: 'button',
        disabled: ctx.session.readOnly,
        onclick: async () => {
          if (!(await confirmAction(question, detail, label))) return;
          try {
            await api('POST', `/deliveries/${encodeURIComponent(id)}/${path}`, {});
            ctx.navigate(`/portal/deliveries/${id}`, { message });
          } catch (err) {
            mount(feedback, errorPanel(err));
            feedback.focus();
          }
        },
      },
      label,
    );
  const running = delivery.status === 'pending' || delivery.status === 'retrying';
  const heading = h('h1', {}, 'Delivery ', h('code', {}, delivery.id));

  mount(
    main,
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '/portal/webhooks', 'data-nav': true }, 'Webhooks'),
      ' / ',
      h('a', { href: `/portal/webhooks/${delivery.webhookId}/deliveries`, 'data-nav': true }, 'Deliveries'),
    ),
    heading,
    ctx.flash?.message ? notice(ctx.flash.message, 'ok') : null,
    h(
      'div',
      { class: 'actions' },
      delivery.status === 'failed' || delivery.status === 'canceled'
        ? command('Retry', 'retry', 'Retry this delivery?', 'It is attempted again on the webhook\'s retry schedule, starting now.', 'Retry started.')
        : null,
      running ? command('Cancel', 'cancel', 'Cancel this delivery?', 'No further attempts are made; it ends canceled.', 'Delivery canceled.') : null,
    ),
    feedback,
    definitionList([
      ['Status', [statusBadge(delivery.status), delivery.reason ? h('span', { class: 'reason' }, ` ${delivery.reason}`) : null]],
      ['Event', [h('code', {}, delivery.eventId), ` (${delivery.eventType})`]],
      ['Webhook', h('a', { href: `/portal/webhooks/${delivery.webhookId}`, 'data-nav': true }, h('code', {}, delivery.webhookId))],
      ['Started', dateTime(delivery.createdAt)],
      ['Finished', dateTime(delivery.completedAt)],
      ['Next attempt', delivery.nextAttemptAt ? dateTime(delivery.nextAttemptAt) : '—'],
    ]),
    h('h2', {}, `Attempts (${delivery.attempts.length})`),
    delivery.attempts.length
      ? h(
          'table',
          { class: 'list attempts' },
          h('thead', {}, h('tr', {}, ['#', 'Time', 'Status', 'Duration', 'Error', 'Response'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            delivery.attempts.map((a) =>
              h(
                'tr',
                {},
                h('td', { 'data-label': '#' }, String(a.attempt)),
                h('td', { 'data-label': 'Time' }, dateTime(a.startedAt)),
                h('td', { 'data-label': 'Status' }, a.statusCode === null ? 'no answer' : `HTTP ${a.statusCode}`),
                h('td', { 'data-label': 'Duration' }, duration(a.durationMs)),
                h('td', { 'data-label': 'Error' }, a.error ?? '—'),
                h('td', { 'data-label': 'Response' }, a.response ? h('pre', { class: 'excerpt' }, a.response) : '—'),
              ),
            ),
          ),
        )
      : h('p', { class: 'empty' }, 'No attempt yet.'),
    payload,
  );

  if (running) setTimeout(() => void poll(), pollMs);
  // Still this page (not left, not redrawn)? Then read the delivery again; redraw if it moved on.
  async function poll(): Promise<void> {
    if (!heading.isConnected) return;
    let next = pollMs;
    try {
      const fresh = (await api<{ delivery: DeliveryDetail }>('GET', `/deliveries/${encodeURIComponent(id)}`)).delivery;
      if (!heading.isConnected) return;
      if (fresh.status !== delivery.status || fresh.attempts.length !== delivery.attempts.length) return await deliveryPage(main, ctx, fresh);
      next = Math.min(pollMs * 2, POLL_MS.max);
    } catch {
      next = POLL_MS.max;
    }
    setTimeout(() => void poll(), next);
    pollMs = next;
  }

  try {
    const { event } = await api<{ event: unknown }>('GET', `/events/${encodeURIComponent(delivery.eventId)}?limit=1`);
    mount(payload, h('h2', { id: 'payload-title' }, 'Event payload'), h('p', { class: 'muted' }, 'The body your receiver gets:'), h('pre', { class: 'json', tabindex: 0 }, json(event)));
  } catch (err) {
    mount(payload, h('h2', { id: 'payload-title' }, 'Event payload'), errorPanel(err));
  }
}
