import { api } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { dateTime } from '../format.js';
import type { Source, SourceType } from '../types.js';
import { confirmAction, copyRow, errorPanel, notice, showMore } from '../ui.js';

/**
 * The tenant's inbound sources: name, type, created time and ingest URL (with a copy button);
 * rotate a URL (the new one shown with a copy button, the previous one working a while longer)
 * and delete, each after a confirmation. A source's secret is never shown: the API never returns it.
 */

interface SourceList {
  sources: Source[];
  nextCursor: string | null;
}

export const SOURCE_TYPE_LABELS: Record<SourceType, string> = {
  github: 'GitHub',
  stripe: 'Stripe',
  shopify: 'Shopify',
  'standard-webhooks': 'Standard Webhooks',
  hmac: 'Generic HMAC',
};

/** The panel of a URL just made: it may not be shown again (sources made before URLs were kept). */
export function ingestUrlPanel(title: string, value: string, note: string): HTMLElement {
  return h('section', { class: 'secret-panel ingest-panel', 'aria-labelledby': 'ingest-title' }, h('h2', { id: 'ingest-title' }, title), h('p', {}, note), copyRow(value, 'Ingest URL', 'ingest-url-value'));
}

export async function sourcesPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const first = await api<SourceList>('GET', '/sources?limit=50');
  const readOnly = ctx.session.readOnly;
  const body = h('tbody');
  const more = h('div', { class: 'paging' });
  const feedback = h('div', { class: 'feedback', tabindex: -1 });

  const act = (label: string, accessibleName: string, handler: () => Promise<void>, kind = 'secondary small') =>
    h(
      'button',
      {
        type: 'button',
        class: kind,
        'aria-label': accessibleName,
        disabled: readOnly,
        title: readOnly ? 'Read-only session' : undefined,
        onclick: async (event: Event) => {
          const button = event.currentTarget as HTMLButtonElement;
          button.disabled = true;
          try {
            await handler();
          } catch (err) {
            mount(feedback, errorPanel(err));
            feedback.focus();
          } finally {
            button.disabled = false;
          }
        },
      },
      label,
    );

  const row = (s: Source) => {
    const path = `/sources/${encodeURIComponent(s.id)}`;
    const rotate = act('Rotate URL', `Rotate the ingest URL of ${s.name}`, async () => {
      if (!(await confirmAction(`Rotate the ingest URL of ${s.name}?`, 'A new URL replaces it. The current one keeps working for 24 hours, so you can update the provider\'s settings in the meantime.', 'Rotate'))) return;
      const rotated = await api<{ ingestUrl: string; previousIngestUrlExpiresAt: string }>('POST', `${path}/rotate-url`, {});
      ctx.navigate('/portal/sources', {
        message: 'Ingest URL rotated.',
        ingestUrl: {
          title: `New ingest URL of ${s.name}`,
          value: rotated.ingestUrl,
          note: `Set it in the provider's webhook settings. The previous URL keeps working until ${dateTime(rotated.previousIngestUrlExpiresAt)}.`,
        },
      });
    });
    const remove = act(
      'Delete',
      `Delete the source ${s.name}`,
      async () => {
        if (!(await confirmAction(`Delete the source ${s.name}?`, 'Its ingest URL stops accepting requests at once; events already received stay. This cannot be undone.', 'Delete'))) return;
        await api('DELETE', path);
        ctx.navigate('/portal/sources', { message: 'Source deleted.' });
      },
      'danger small',
    );
    return h(
      'tr',
      { 'data-source-id': s.id },
      h('td', { 'data-label': 'Name' }, h('span', { class: 'source-name' }, s.name)),
      // One box per cell: on a narrow screen each cell is a labelled grid row.
      h('td', { 'data-label': 'Type' }, h('div', {}, SOURCE_TYPE_LABELS[s.type] ?? s.type, h('div', { class: 'muted' }, 'events ', h('code', { class: 'nowrap' }, `${s.eventTypePrefix.replace(/\.?$/, '.')}*`)))),
      h('td', { 'data-label': 'Created' }, dateTime(s.createdAt)),
      h(
        'td',
        { 'data-label': 'Ingest URL', class: 'ingest-url' },
        h(
          'div',
          {},
          s.ingestUrl ? copyRow(s.ingestUrl, `Ingest URL of ${s.name}`) : h('span', { class: 'muted' }, 'Not kept for this source: rotate the URL to see a new one.'),
          s.previousIngestUrlExpiresAt && new Date(s.previousIngestUrlExpiresAt).getTime() > Date.now()
            ? h(
                'div',
                { class: 'muted previous-url' },
                s.previousIngestUrl ? ['The previous URL, ', h('code', { class: 'url' }, s.previousIngestUrl), ', works until '] : 'The previous URL works until ',
                `${dateTime(s.previousIngestUrlExpiresAt)}.`,
              )
            : null,
        ),
      ),
      h('td', { 'data-label': 'Actions' }, h('div', { class: 'actions tight' }, rotate, remove)),
    );
  };

  const addRows = (list: SourceList) => {
    body.append(...list.sources.map(row));
    showMore(more, list.nextCursor, async (cursor) => addRows(await api<SourceList>('GET', `/sources?limit=50&cursor=${encodeURIComponent(cursor)}`)));
  };
  addRows(first);

  mount(
    main,
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Sources'),
      readOnly ? h('button', { type: 'button', disabled: true, title: 'Read-only session' }, 'New source') : h('a', { href: '/portal/sources/new', 'data-nav': true, class: 'button' }, 'New source'),
    ),
    h(
      'p',
      { class: 'hint' },
      'A source receives webhooks from a provider (GitHub, Stripe, Shopify, any Standard Webhooks or HMAC sender) at its ingest URL, checks their signature with the secret you gave it, and turns each into one of your events.',
    ),
    ctx.flash?.message ? notice(ctx.flash.message, 'ok') : null,
    ctx.flash?.ingestUrl ? ingestUrlPanel(ctx.flash.ingestUrl.title, ctx.flash.ingestUrl.value, ctx.flash.ingestUrl.note) : null,
    feedback,
    first.sources.length === 0
      ? h('p', { class: 'empty' }, 'No sources yet. A source lets a provider such as GitHub or Stripe send its webhooks here.')
      : [
          h(
            'table',
            { class: 'list sources' },
            h('thead', {}, h('tr', {}, ['Name', 'Type', 'Created', 'Ingest URL', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
            body,
          ),
          more,
        ],
  );
}
