import { api } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { dateTime } from '../format.js';
import type { DeliverySummary, EventType, Webhook } from '../types.js';
import { errorPanel, statusBadge } from '../ui.js';

const STATUSES = ['pending', 'retrying', 'delivered', 'failed', 'canceled'];
const PAGE_SIZE = 50;

/**
 * The deliveries of one webhook, newest first, one page at a time (cursor paging: a page costs
 * the same however many deliveries there are), filtered by status and event type. The filters
 * and cursor live in the address, so a page can be bookmarked and Back works.
 */
export async function deliveriesPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.params.id;
  const status = ctx.query.get('status') ?? '';
  const eventType = ctx.query.get('eventType') ?? '';
  const cursor = ctx.query.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) query.set('status', status);
  if (eventType) query.set('eventType', eventType);
  if (cursor) query.set('cursor', cursor);
  const [{ webhook }, page] = await Promise.all([
    api<{ webhook: Webhook }>('GET', `/webhooks/${encodeURIComponent(id)}`),
    api<{ deliveries: DeliverySummary[]; nextCursor: string | null }>('GET', `/webhooks/${encodeURIComponent(id)}/deliveries?${query}`),
  ]);

  const base = `/portal/webhooks/${id}/deliveries`;
  const link = (params: Record<string, string>) => {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    return `${base}${q.size ? `?${q}` : ''}`;
  };

  const statusSelect = h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, 'any status'), STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  const typeOptions = (names: string[]) => [h('option', { value: '' }, 'any event type'), ...names.map((name) => h('option', { value: name, selected: name === eventType }, name))];
  const typeSelect = h('select', { id: 'filter-type', name: 'eventType' }, typeOptions(eventType ? [eventType] : []));
  const typesFailed = h('div', { class: 'types-error' });
  const filters = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault();
        ctx.navigate(link({ status: statusSelect.value, eventType: typeSelect.value }));
      },
    },
    h('label', { for: 'filter-status' }, 'Status'),
    statusSelect,
    h('label', { for: 'filter-type' }, 'Event type'),
    typeSelect,
    h('button', { type: 'submit' }, 'Filter'),
    typesFailed,
  );

  const rows = page.deliveries.map((d) =>
    h(
      'tr',
      {},
      h('td', { 'data-label': 'Delivery' }, h('a', { href: `/portal/deliveries/${d.id}`, 'data-nav': true }, h('code', {}, d.id))),
      h('td', { 'data-label': 'Event type' }, d.eventType),
      h('td', { 'data-label': 'Status' }, statusBadge(d.status)),
      h('td', { 'data-label': 'Started' }, dateTime(d.createdAt)),
      h('td', { 'data-label': 'Finished' }, dateTime(d.completedAt)),
    ),
  );

  mount(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '/portal/webhooks', 'data-nav': true }, 'Webhooks'), ' / ', h('a', { href: `/portal/webhooks/${id}`, 'data-nav': true, class: 'url' }, webhook.url)),
    h('h1', {}, 'Deliveries'),
    filters,
    rows.length
      ? h(
          'table',
          { class: 'list deliveries' },
          h('thead', {}, h('tr', {}, ['Delivery', 'Event type', 'Status', 'Started', 'Finished'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows),
        )
      : h('p', { class: 'empty' }, status || eventType ? 'No deliveries match these filters.' : 'No deliveries yet.'),
    h(
      'nav',
      { class: 'paging', 'aria-label': 'Pages' },
      cursor ? h('a', { href: link({ status, eventType }), 'data-nav': true, class: 'button secondary' }, 'Newest') : null,
      page.nextCursor ? h('a', { href: link({ status, eventType, cursor: page.nextCursor }), 'data-nav': true, class: 'button secondary' }, 'Older') : null,
    ),
  );
  // The event types only fill the filter's list: asked for once the table is drawn, so they do
  // not compete with the page's own calls on a busy machine.
  void api<{ eventTypes: EventType[] }>('GET', '/event-types').then(
    ({ eventTypes }) => {
      const chosen = typeSelect.value;
      mount(typeSelect, ...typeOptions(eventTypes.map((t) => t.name)));
      typeSelect.value = chosen;
    },
    (error: unknown) => mount(typesFailed, errorPanel(error)),
  );
}
