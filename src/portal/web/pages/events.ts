import { api } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { dateTime } from '../format.js';
import type { DeliveryStatus, EventSummary } from '../types.js';
import { showMore, statusBadge } from '../ui.js';

interface EventList {
  events: EventSummary[];
  nextCursor: string | null;
}

const PAGE_SIZE = 50;
/** The statuses an event's row counts, most urgent first; a status with none is left out. */
const SHOWN: DeliveryStatus[] = ['failed', 'retrying', 'pending', 'delivered', 'canceled'];

/**
 * The tenant's recent events, newest first, each with its deliveries' counts by status: a count
 * links to the delivery log of that event (and status), where each delivery opens with its attempts.
 */
export async function eventsPage(main: HTMLElement, _ctx: PageContext): Promise<void> {
  const first = await api<EventList>('GET', `/events?limit=${PAGE_SIZE}`);
  const body = h('tbody');
  const more = h('div', { class: 'paging' });
  const logOf = (eventId: string, status?: DeliveryStatus) => `/portal/deliveries?${new URLSearchParams({ eventId, ...(status && { status }) })}`;

  const addRows = (list: EventList) => {
    for (const e of list.events) {
      const counts = SHOWN.filter((s) => e.deliveries[s] > 0).map((s) =>
        h('a', { href: logOf(e.id, s), 'data-nav': true, class: 'count', 'aria-label': `${e.deliveries[s]} ${s} deliveries of event ${e.id}` }, statusBadge(s), ` ${e.deliveries[s]}`),
      );
      body.append(
        h(
          'tr',
          {},
          h('td', { 'data-label': 'Event' }, h('code', {}, e.id)),
          h('td', { 'data-label': 'Type' }, e.type),
          h('td', { 'data-label': 'Accepted' }, dateTime(e.timestamp)),
          h(
            'td',
            { 'data-label': 'Deliveries', class: 'counts' },
            e.deliveries.total === 0
              ? h('span', { class: 'muted' }, 'none')
              : [h('a', { href: logOf(e.id), 'data-nav': true }, `${e.deliveries.total} in all`), ' ', ...counts],
          ),
        ),
      );
    }
    showMore(more, list.nextCursor, async (cursor) => addRows(await api<EventList>('GET', `/events?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`)));
  };
  addRows(first);

  mount(
    main,
    h('h1', {}, 'Events'),
    first.events.length === 0
      ? h('p', { class: 'empty' }, 'No events yet.')
      : [
          h('table', { class: 'list events' }, h('thead', {}, h('tr', {}, ['Event', 'Type', 'Accepted', 'Deliveries'].map((c) => h('th', { scope: 'col' }, c)))), body),
          more,
        ],
  );
}
