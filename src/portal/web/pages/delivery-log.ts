import { api } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { dateTime } from '../format.js';
import type { DeliverySummary } from '../types.js';
import { showMore, statusBadge } from '../ui.js';

interface DeliveryList {
  deliveries: DeliverySummary[];
  nextCursor: string | null;
}

const STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'canceled'];
const PAGE_SIZE = 50;

/**
 * The tenant's delivery log across its webhooks, newest first: the nav opens it on the failed
 * ones, each linking to its delivery page (attempts, retry). The status filter and an event (from
 * the events page) live in the address, so Back works and a view can be bookmarked.
 */
export async function deliveryLogPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const status = ctx.query.get('status') ?? '';
  const eventId = ctx.query.get('eventId') ?? '';
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) query.set('status', status);
  if (eventId) query.set('eventId', eventId);
  const first = await api<DeliveryList>('GET', `/deliveries?${query}`);
  const body = h('tbody');
  const more = h('div', { class: 'paging' });

  const addRows = (list: DeliveryList) => {
    for (const d of list.deliveries) {
      body.append(
        h(
          'tr',
          {},
          h('td', { 'data-label': 'Delivery' }, h('a', { href: `/portal/deliveries/${d.id}`, 'data-nav': true }, h('code', {}, d.id))),
          h('td', { 'data-label': 'Webhook' }, h('a', { href: `/portal/webhooks/${d.webhookId}`, 'data-nav': true }, h('code', {}, d.webhookId))),
          h('td', { 'data-label': 'Event' }, h('code', {}, d.eventId), h('div', { class: 'muted' }, d.eventType)),
          h('td', { 'data-label': 'Status' }, statusBadge(d.status)),
          h('td', { 'data-label': 'Started' }, dateTime(d.createdAt)),
          h('td', { 'data-label': 'Finished' }, dateTime(d.completedAt)),
        ),
      );
    }
    showMore(more, list.nextCursor, async (cursor) => {
      const next = new URLSearchParams(query);
      next.set('cursor', cursor);
      addRows(await api<DeliveryList>('GET', `/deliveries?${next}`));
    });
  };
  addRows(first);

  const statusSelect = h('select', { id: 'log-status', name: 'status' }, h('option', { value: '' }, 'any status'), STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const q = new URLSearchParams(Object.entries({ status: statusSelect.value, eventId }).filter(([, v]) => v));
        ctx.navigate(`/portal/deliveries${q.size ? `?${q}` : ''}`);
      },
    },
    h('label', { for: 'log-status' }, 'Status'),
    statusSelect,
    h('button', { type: 'submit' }, 'Filter'),
  );

  const title = status === 'failed' ? 'Failed deliveries' : 'Deliveries';
  mount(
    main,
    h('h1', {}, title),
    eventId ? h('p', { class: 'muted' }, 'Of event ', h('code', {}, eventId), ' · ', h('a', { href: '/portal/events', 'data-nav': true }, 'all events')) : null,
    status === 'failed' ? h('p', { class: 'muted' }, 'Deliveries whose last attempt failed and that get no further attempt. Open one to see its attempts and retry it.') : null,
    filters,
    first.deliveries.length === 0
      ? h('p', { class: 'empty' }, status === 'failed' ? 'No failed deliveries.' : status || eventId ? 'No deliveries match these filters.' : 'No deliveries yet.')
      : [
          h(
            'table',
            { class: 'list delivery-log' },
            h('thead', {}, h('tr', {}, ['Delivery', 'Webhook', 'Event', 'Status', 'Started', 'Finished'].map((c) => h('th', { scope: 'col' }, c)))),
            body,
          ),
          more,
        ],
  );
}
