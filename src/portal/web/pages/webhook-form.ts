import { api, ApiFailure } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { json } from '../format.js';
import { fieldLabel } from '../field-labels.js';
import { WEBHOOK_FORMATS, type EventType, type Webhook, type WebhookFormat } from '../types.js';
import { errorPanel } from '../ui.js';

/**
 * Create or edit a webhook: URL, event types picked from the catalogue (with descriptions and
 * example payloads), custom headers, timeout, retry schedule, rate limit, ordering, payload filter (JSON) and
 * the legacy signature. Sends POST /webhooks or PATCH /webhooks/{id}; a refused field is named next to its
 * input, in its label's words. A sensitive header's value is never shown: left empty, it keeps its
 * stored value (sent as null); typed, it is replaced.
 */

const FIELDS = ['url', 'description', 'events', 'headers', 'timeoutSeconds', 'retrySchedule', 'rateLimitPerSecond', 'ordering', 'format', 'filter', 'legacySignature'] as const;
type Field = (typeof FIELDS)[number];

function field(name: Field, label: string, input: HTMLElement, hint?: string): HTMLElement {
  input.setAttribute('aria-describedby', `hint-${name} error-${name}`);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${name}` }, label),
    input,
    h('p', { class: 'hint', id: `hint-${name}` }, hint ?? ''),
    h('p', { class: 'field-error', id: `error-${name}`, role: 'alert' }),
  );
}

function headerRow(name = '', value = '', hiddenValue = false): HTMLElement {
  const row: HTMLElement = h(
    'div',
    // A hidden value remembers its header's stored name: left empty under that name, it is kept.
    { class: 'header-row', 'data-hidden-name': hiddenValue ? name : undefined },
    h('input', { type: 'text', class: 'header-name', 'aria-label': 'Header name', placeholder: 'X-Header-Name', value: name }),
    h('input', {
      type: 'text',
      class: 'header-value',
      'aria-label': hiddenValue ? `Header value (hidden; empty keeps it)` : 'Header value',
      placeholder: hiddenValue ? 'unchanged (hidden): type a new value to replace it' : 'value',
      value,
    }),
    h('button', { type: 'button', class: 'secondary small', 'aria-label': `Remove header ${name}`.trim(), onclick: () => row.remove() }, 'Remove'),
  );
  return row;
}

/** The connector formats in the form's and the webhook page's words. */
export const FORMAT_LABELS: Record<WebhookFormat, string> = {
  standard: 'Standard: the event as JSON',
  slack: 'Slack message',
  discord: 'Discord message',
  teams: 'Microsoft Teams message',
};

function familyGroups(types: EventType[], selected: Set<string>): HTMLElement[] {
  const families = new Map<string, EventType[]>();
  for (const t of types) {
    const family = t.name.split('.')[0];
    families.set(family, [...(families.get(family) ?? []), t]);
  }
  return [...families].map(([family, members]) => {
    const wildcard = `${family}.*`;
    const open = selected.has(wildcard) || members.some((m) => selected.has(m.name));
    return h(
      'details',
      { class: 'family', open },
      h('summary', {}, `${family} (${members.length})`),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'event', value: wildcard, checked: selected.has(wildcard) }), ' ', h('code', {}, wildcard), ' every ', family, ' event'),
      members.map((t) =>
        h(
          'div',
          { class: 'event-type' },
          h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'event', value: t.name, checked: selected.has(t.name) }), ' ', h('code', {}, t.name)),
          t.description ? h('p', { class: 'muted' }, t.description) : null,
          t.example ? h('details', { class: 'example' }, h('summary', {}, 'Example payload'), h('pre', {}, json(t.example))) : null,
        ),
      ),
    );
  });
}

export async function webhookFormPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.params.id;
  const [existing, catalogue] = await Promise.all([
    id ? api<{ webhook: Webhook }>('GET', `/webhooks/${encodeURIComponent(id)}`).then((r) => r.webhook) : Promise.resolve(undefined),
    api<{ eventTypes: EventType[] }>('GET', '/event-types').then((r) => r.eventTypes),
  ]);
  const selected = new Set(existing?.events ?? []);
  const offered = new Set(['*', ...catalogue.flatMap((t) => [t.name, `${t.name.split('.')[0]}.*`])]);

  const url = h('input', { id: 'f-url', name: 'url', type: 'url', required: true, value: existing?.url ?? '', placeholder: 'https://example.com/webhooks', autocomplete: 'url' });
  const description = h('input', { id: 'f-description', name: 'description', type: 'text', value: existing?.description ?? '' });
  const everything = h('input', { type: 'checkbox', name: 'event', value: '*', checked: selected.has('*') });
  const otherPatterns = h('input', {
    id: 'f-events',
    type: 'text',
    value: [...selected].filter((e) => !offered.has(e)).join(', '),
    placeholder: 'e.g. inventory.restocked, orders.*',
  });
  const headers = h('div', { class: 'headers', id: 'f-headers' });
  for (const [name, value] of Object.entries(existing?.headers ?? {})) headers.append(headerRow(name, value));
  for (const name of existing?.sensitiveHeaders ?? []) headers.append(headerRow(name, '', true));
  const headersBefore = () => JSON.stringify(readHeaders());
  const timeout = h('input', { id: 'f-timeoutSeconds', type: 'number', min: 1, max: 30, step: 1, value: existing?.timeoutSeconds ?? 10 });
  const legacy = h('input', { id: 'f-legacySignature', type: 'checkbox', checked: existing?.legacySignature ?? false });
  const schedule = h('input', { id: 'f-retrySchedule', type: 'text', value: existing?.retrySchedule?.join(', ') ?? '', placeholder: 'default: 1m, 5m, 15m, 1h, 2h' });
  const rateLimit = h('input', { id: 'f-rateLimitPerSecond', type: 'number', min: 0, step: 'any', value: existing?.rateLimitPerSecond ?? '', placeholder: 'no limit' });
  const ordering = h(
    'select',
    { id: 'f-ordering' },
    h('option', { value: 'unordered' }, 'Unordered: as soon as possible, in parallel'),
    h('option', { value: 'fifo' }, 'FIFO: one at a time, in the order events were accepted'),
  ) as HTMLSelectElement;
  ordering.value = existing?.ordering ?? 'unordered';
  const format = h('select', { id: 'f-format' }, WEBHOOK_FORMATS.map((f) => h('option', { value: f }, FORMAT_LABELS[f]))) as HTMLSelectElement;
  format.value = existing?.format ?? 'standard';
  const filter = h('textarea', {
    id: 'f-filter',
    rows: 4,
    spellcheck: 'false',
    placeholder: '{"data.amount": {"$gte": 1000}}',
  });
  filter.value = existing?.filter ? JSON.stringify(existing.filter, null, 2) : '';
  const summary = h('div', { class: 'form-errors' });

  /** The headers as PATCH takes them: a hidden value left empty under its name is null (kept). */
  function readHeaders(): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const row of headers.querySelectorAll<HTMLElement>('.header-row')) {
      const name = (row.querySelector('.header-name') as HTMLInputElement).value.trim();
      const value = (row.querySelector('.header-value') as HTMLInputElement).value;
      const hiddenName = row.dataset.hiddenName;
      if (name) out[name] = hiddenName !== undefined && value === '' && hiddenName.toLowerCase() === name.toLowerCase() ? null : value;
    }
    return out;
  }
  const initialHeaders = headersBefore();

  function showErrors(err: unknown): void {
    for (const name of FIELDS) (main.querySelector(`#error-${name}`) as HTMLElement).textContent = '';
    mount(summary, errorPanel(err));
    if (err instanceof ApiFailure) {
      for (const d of err.details) {
        const name = d.path.split('.')[0] as Field;
        const slot = main.querySelector(`#error-${FIELDS.includes(name) ? name : 'url'}`) as HTMLElement;
        slot.textContent = [slot.textContent, `${fieldLabel(d.path)}: ${d.message}`].filter(Boolean).join(' · ');
      }
    }
    summary.focus();
  }

  const form = h(
    'form',
    {
      class: 'webhook-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        // Not JSON is said before anything is sent; the API judges the filter itself.
        let filterValue: unknown = null;
        try {
          filterValue = filter.value.trim() ? JSON.parse(filter.value) : null;
        } catch (err) {
          showErrors(new ApiFailure(400, 'validation_failed', 'request is invalid', [{ path: 'filter', message: `not valid JSON (${(err as Error).message})` }]));
          return;
        }
        // Text the browser cannot read as a number would otherwise go as "no limit".
        if (rateLimit.validity.badInput) {
          showErrors(new ApiFailure(400, 'validation_failed', 'request is invalid', [{ path: 'rateLimitPerSecond', message: 'not a number' }]));
          return;
        }
        const events = [
          ...[...form.querySelectorAll<HTMLInputElement>('input[name=event]:checked')].map((i) => i.value),
          ...otherPatterns.value.split(',').map((s) => s.trim()).filter(Boolean),
        ];
        const body: Record<string, unknown> = {
          url: url.value.trim(),
          description: description.value.trim() || null,
          events,
          timeoutSeconds: Number(timeout.value),
          retrySchedule: schedule.value.trim() ? schedule.value.split(',').map((s) => s.trim()).filter(Boolean) : null,
          // Empty: no limit. A value the API refuses (0, negative, too high) is named at the field.
          rateLimitPerSecond: rateLimit.value.trim() ? Number(rateLimit.value) : null,
          ordering: ordering.value,
          format: format.value,
          filter: filterValue,
          legacySignature: legacy.checked,
        };
        // Headers only when they were changed; a hidden value left empty goes as null, which
        // keeps the stored one.
        if (!existing || headersBefore() !== initialHeaders) body.headers = readHeaders();
        submit.disabled = true;
        try {
          if (existing) {
            await api('PATCH', `/webhooks/${encodeURIComponent(existing.id)}`, body);
            ctx.navigate(`/portal/webhooks/${existing.id}`, { message: 'Webhook saved.' });
          } else {
            const created = await api<{ webhook: Webhook & { secret: string } }>('POST', '/webhooks', body);
            ctx.navigate(`/portal/webhooks/${created.webhook.id}`, {
              message: 'Webhook created.',
              secret: { title: 'Signing secret', value: created.webhook.secret, note: 'Copy it now: it is shown only once. Your receiver verifies each request with it.' },
            });
          }
        } catch (err) {
          showErrors(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    summary,
    field('url', 'Endpoint URL', url, ctx.service.allowHttpUrls ? 'Where events are POSTed (https, or http: this service allows it).' : 'Where events are POSTed (https only).'),
    field('description', 'Description (optional)', description),
    h(
      'fieldset',
      { class: 'events' },
      h('legend', {}, 'Event types'),
      h('label', { class: 'check' }, everything, ' ', h('code', {}, '*'), ' every event (not the operational webhook.* and delivery.* events)'),
      familyGroups(catalogue, selected),
      field('events', 'Other types or patterns (comma-separated)', otherPatterns, 'Exact names or prefix wildcards such as orders.*'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Custom headers'),
      h('p', { class: 'hint' }, 'Sent with every request. Values of sensitive headers (Authorization, tokens, keys) are stored encrypted and never shown again: leave one empty to keep it.'),
      headers,
      h('button', { type: 'button', class: 'secondary small', onclick: () => headers.append(headerRow()) }, 'Add header'),
      h('p', { class: 'field-error', id: 'error-headers', role: 'alert' }),
    ),
    field('timeoutSeconds', 'Timeout (seconds)', timeout, 'How long one attempt may take, 1 to 30 seconds.'),
    field('retrySchedule', 'Retry schedule', schedule, 'Delays between attempts, e.g. 30s, 5m, 1h (at most 20, each up to 24h). Empty: the default.'),
    field(
      'rateLimitPerSecond',
      'Rate limit (requests per second, optional)',
      rateLimit,
      'At most this many requests per second to your endpoint, e.g. 5 or 0.5 (up to 1000). Events over it wait their turn: none is dropped, and waiting does not use up an attempt. Empty: no limit.',
    ),
    field(
      'ordering',
      'Ordering',
      ordering,
      'FIFO: your endpoint gets one request at a time, in the order the events were accepted; the next waits until the previous one is delivered or has used up its retries, ' +
        'so one failing event holds back the ones after it. A retried or resent delivery goes to the end of the line. Unordered (the default): faster, in no particular order.',
    ),
    field(
      'format',
      'Format',
      format,
      'What each request\'s body is. Standard: the event itself (id, type, timestamp, data, metadata). Slack, Discord or Microsoft Teams: a message that service\'s incoming webhook accepts ' +
        '(the event\'s type, time, id and data), for an incoming-webhook URL of that service. Requests are signed the same way whatever the format.',
    ),
    field(
      'filter',
      'Payload filter (optional)',
      filter,
      'A MongoDB-style query, as JSON, over the event as your endpoint receives it (id, type, tenant_id, data, metadata): only matching events are sent. ' +
        'Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex $options $and $or $nor $not. Empty: every event of the chosen types.',
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { class: 'check' }, legacy, ' Also send the legacy ', h('code', {}, 'X-Webhook-Signature'), ' header'),
      h(
        'p',
        { class: 'hint', id: 'hint-legacySignature' },
        'Only for receivers that cannot verify webhook-signature yet: it signs the body alone, without a timestamp, so a captured request can be replayed.',
      ),
      h('p', { class: 'field-error', id: 'error-legacySignature', role: 'alert' }),
    ),
    h('div', { class: 'actions' }),
  );
  summary.tabIndex = -1;
  const submit = h('button', { type: 'submit' }, existing ? 'Save' : 'Create webhook');
  form.querySelector('.actions')!.append(submit, h('a', { href: existing ? `/portal/webhooks/${existing.id}` : '/portal/webhooks', 'data-nav': true, class: 'button secondary' }, 'Cancel'));

  mount(main, h('p', { class: 'crumbs' }, h('a', { href: '/portal/webhooks', 'data-nav': true }, 'Webhooks')), h('h1', {}, existing ? 'Edit webhook' : 'New webhook'), form);
}
