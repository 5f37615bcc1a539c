import { api } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { ago, dateTime, successRate } from '../format.js';
import type { Webhook } from '../types.js';
import { notice, showMore, webhookState } from '../ui.js';

interface WebhookList {
  webhooks: Webhook[];
  count: number;
  nextCursor: string | null;
}

/** The tenant's webhooks: state (and why disabled), success rate, last delivery. */
export async function webhooksPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const first = await api<WebhookList>('GET', '/webhooks?limit=50');
  const body = h('tbody');
  const more = h('div', { class: 'paging' });

  const addRows = (list: WebhookList) => {
    for (const w of list.webhooks) {
      body.append(
        h(
          'tr',
          {},
          h('td', { 'data-label': 'URL' }, h('a', { href: `/portal/webhooks/${w.id}`, 'data-nav': true, class: 'url' }, w.url), w.description ? h('div', { class: 'muted' }, w.description) : null),
          h('td', { 'data-label': 'State' }, webhookState(w)),
          h('td', { 'data-label': 'Success rate' }, successRate(w.deliverySuccessCount, w.deliveryFailureCount)),
          h('td', { 'data-label': 'Last delivery' }, h('span', { title: dateTime(w.lastTriggeredAt) }, ago(w.lastTriggeredAt))),
          h('td', { 'data-label': 'Events' }, w.events.join(', ')),
        ),
      );
    }
    showMore(more, list.nextCursor, async (cursor) => addRows(await api<WebhookList>('GET', `/webhooks?limit=50&cursor=${encodeURIComponent(cursor)}`)));
  };
  addRows(first);

  mount(
    main,
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Webhooks'),
      // A read-only session sees the change it cannot make, disabled (as every change button).
      ctx.session.readOnly
        ? h('button', { type: 'button', disabled: true, title: 'Read-only session' }, 'New webhook')
        : h('a', { href: '/portal/webhooks/new', 'data-nav': true, class: 'button' }, 'New webhook'),
    ),
    ctx.flash?.message ? notice(ctx.flash.message, 'ok') : null,
    first.count === 0
      ? h('p', { class: 'empty' }, 'No webhooks yet. A webhook sends the events you choose to a URL of yours.')
      : [
          h('p', { class: 'muted' }, `${first.count} webhook${first.count === 1 ? '' : 's'}`),
          h(
            'table',
            { class: 'list' },
            h('thead', {}, h('tr', {}, ['URL', 'State', 'Success rate', 'Last delivery', 'Events'].map((c) => h('th', { scope: 'col' }, c)))),
            body,
          ),
          more,
        ],
  );
}
