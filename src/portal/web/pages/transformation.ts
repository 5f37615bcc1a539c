import { api, ApiFailure } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { fieldLabel } from '../field-labels.js';
import type { EventType, TransformationTest, Webhook } from '../types.js';
import { confirmAction, definitionList, errorPanel, notice } from '../ui.js';

/**
 * A webhook's transformation: its JavaScript `handler(webhook)` in an editor, whether it runs,
 * saved through PATCH /webhooks/{id} (a code that does not compile is refused with its line, shown
 * at the editor) or removed; and a test panel that runs the code in the editor, unsaved, on an
 * event typed here (POST /webhooks/{id}/transformation-test) and shows what would be sent.
 */

const STARTER = `function handler(webhook) {
  // webhook: {eventType, eventId, url, method, headers, payload}
  // Change what is sent, or return {...webhook, cancel: true} to send nothing.
  webhook.payload = { text: webhook.eventType + ' ' + webhook.eventId, data: webhook.payload.data };
  return webhook;
}
`;

/** Error slots of this page, by the API's field path (`code` in a test, `transformation.code` on save). */
const SLOTS: [RegExp, string][] = [
  [/^(transformation\.)?code$/, 'error-code'],
  [/^event\.type$/, 'error-event-type'],
  [/^event\.data/, 'error-event-data'],
];

function slotOf(path: string): string | undefined {
  return SLOTS.find(([pattern]) => pattern.test(path))?.[1];
}

/** A test event the webhook would get: its first exact type, or the catalogue's first of its patterns, with that type's example data. */
function suggestedEvent(webhook: Webhook, catalogue: EventType[]): { type: string; data: unknown } {
  const matches = (pattern: string, name: string) => pattern === '*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1)));
  const type =
    webhook.events.find((e) => !e.includes('*')) ?? catalogue.find((t) => webhook.events.some((p) => matches(p, t.name)))?.name ?? webhook.events[0]?.replace(/\*$/, 'example') ?? 'example.created';
  const example = catalogue.find((t) => t.name === type)?.example;
  return { type, data: (example as { data?: unknown } | null)?.data ?? {} };
}

/** A body shown as sent, or indented when it is JSON. */
function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export async function transformationPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.params.id;
  const path = `/webhooks/${encodeURIComponent(id)}`;
  const [first, catalogue] = await Promise.all([
    api<{ webhook: Webhook }>('GET', path),
    // Only to suggest a test event; the page works without it.
    api<{ eventTypes: EventType[] }>('GET', '/event-types').then(
      (r) => r.eventTypes,
      () => [] as EventType[],
    ),
  ]);
  let webhook = first.webhook;
  const suggested = suggestedEvent(webhook, catalogue);
  const readOnly = ctx.session.readOnly;

  const code = h('textarea', { id: 'f-code', class: 'code', rows: 16, spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', 'aria-describedby': 'hint-code error-code' });
  code.value = webhook.transformation?.code ?? STARTER;
  const enabled = h('input', { id: 'f-enabled', type: 'checkbox', checked: webhook.transformation?.enabled ?? true });
  const summary = h('div', { class: 'form-errors', tabindex: -1 });
  const stateLine = h('p', { class: 'muted', id: 'transformation-state' });
  const showState = () => {
    stateLine.textContent = webhook.transformation
      ? `Saved: version ${webhook.transformation.version}, ${webhook.transformation.enabled ? 'enabled' : 'disabled (requests are sent unchanged)'}.`
      : 'No transformation is saved: requests are sent as the format renders them.';
  };
  showState();

  const eventType = h('input', { id: 'f-event-type', type: 'text', value: suggested.type, 'aria-describedby': 'error-event-type' });
  const eventData = h('textarea', { id: 'f-event-data', class: 'code', rows: 6, spellcheck: 'false', 'aria-describedby': 'hint-event-data error-event-data' });
  eventData.value = JSON.stringify(suggested.data, null, 2);
  const result = h('div', { id: 'test-result', class: 'test-result', tabindex: -1 });

  const clearErrors = () => {
    for (const [, slot] of SLOTS) (main.querySelector(`#${slot}`) as HTMLElement).textContent = '';
    mount(summary);
  };
  /** A refusal: each detail at its input when it has one, the rest in `panel`. */
  const showErrors = (err: unknown, panel: HTMLElement) => {
    clearErrors();
    mount(panel, errorPanel(err));
    if (err instanceof ApiFailure) {
      for (const d of err.details) {
        const slot = slotOf(d.path);
        if (slot) (main.querySelector(`#${slot}`) as HTMLElement).textContent = `${fieldLabel(d.path)}: ${d.message}`;
      }
    }
    panel.focus();
  };
  const guarded = (label: string, handler: (button: HTMLButtonElement) => Promise<void>, kind: string | null = 'secondary', type: 'button' | 'submit' = 'button') =>
    h(
      'button',
      {
        type,
        class: kind,
        disabled: readOnly,
        title: readOnly ? 'Read-only session' : undefined,
        onclick: async (event: Event) => {
          event.preventDefault();
          const button = event.currentTarget as HTMLButtonElement;
          button.disabled = true;
          try {
            await handler(button);
          } finally {
            button.disabled = false;
          }
        },
      },
      label,
    );

  const save = guarded(
    'Save',
    async () => {
      if (!code.value.trim()) {
        showErrors(new ApiFailure(400, 'validation_failed', 'request is invalid', [{ path: 'code', message: 'empty: write a handler, or remove the transformation' }]), summary);
        return;
      }
      try {
        ({ webhook } = await api<{ webhook: Webhook }>('PATCH', path, { transformation: { code: code.value, enabled: enabled.checked } }));
      } catch (err) {
        showErrors(err, summary);
        return;
      }
      clearErrors();
      showState();
      mount(summary, notice('Transformation saved.', 'ok'));
      remove.hidden = false;
      summary.focus();
    },
    null,
    'submit',
  );
  const remove = guarded(
    'Remove transformation',
    async () => {
      if (!(await confirmAction('Remove the transformation?', 'Requests are sent as the format renders them again, from the next attempt on. The code is deleted.', 'Remove'))) return;
      try {
        await api('PATCH', path, { transformation: null });
      } catch (err) {
        showErrors(err, summary);
        return;
      }
      ctx.navigate(`/portal/webhooks/${id}`, { message: 'Transformation removed.' });
    },
    'danger',
  );
  remove.hidden = !webhook.transformation;

  const test = guarded('Test', async () => {
    clearErrors();
    mount(result);
    let data: unknown;
    try {
      data = JSON.parse(eventData.value);
    } catch (err) {
      showErrors(new ApiFailure(400, 'validation_failed', 'request is invalid', [{ path: 'event.data', message: `not valid JSON (${(err as Error).message})` }]), result);
      return;
    }
    if (!code.value.trim()) {
      showErrors(new ApiFailure(400, 'validation_failed', 'request is invalid', [{ path: 'code', message: 'empty: write a handler to test' }]), result);
      return;
    }
    mount(result, notice('Running the transformation…'));
    let answer: TransformationTest;
    try {
      answer = await api<TransformationTest>('POST', `${path}/transformation-test`, { event: { type: eventType.value.trim(), data }, code: code.value });
    } catch (err) {
      showErrors(err, result);
      return;
    }
    mount(result, testOutcome(answer));
    result.focus();
  });

  mount(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '/portal/webhooks', 'data-nav': true }, 'Webhooks'), ' › ', h('a', { href: `/portal/webhooks/${id}`, 'data-nav': true, class: 'url' }, webhook.url)),
    h('h1', {}, 'Transformation'),
    h(
      'p',
      { class: 'hint' },
      'JavaScript that reshapes each request before it is sent. ',
      h('code', {}, 'handler(webhook)'),
      ' gets ',
      h('code', {}, '{eventType, eventId, url, method, headers, payload}'),
      ' and returns it changed (payload, url, method POST or PUT, extra headers), or with ',
      h('code', {}, 'cancel: true'),
      ' to send nothing (the delivery ends canceled). It runs in a sandbox: no network, timers or modules, 50 ms per call. Code that throws fails the attempt.',
    ),
    stateLine,
    h(
      'form',
      { class: 'webhook-form transformation-form', novalidate: true, onsubmit: (event: Event) => event.preventDefault() },
      summary,
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'f-code' }, 'Code'),
        code,
        h('p', { class: 'hint', id: 'hint-code' }, 'Checked to compile when saved and when tested: a syntax error is shown here with its line.'),
        h('p', { class: 'field-error', id: 'error-code', role: 'alert' }),
      ),
      h('div', { class: 'field' }, h('label', { class: 'check' }, enabled, ' Enabled: run it on every request (off: saved, but requests are sent unchanged)')),
      h('div', { class: 'actions' }, save, remove, h('a', { href: `/portal/webhooks/${id}`, 'data-nav': true, class: 'button secondary' }, 'Back to the webhook')),
    ),
    h(
      'section',
      { class: 'test-panel', 'aria-labelledby': 'test-title' },
      h('h2', { id: 'test-title' }, 'Test'),
      h('p', { class: 'hint' }, 'Runs the code in the editor (not saved) on an event typed here and shows what would be sent, signature included. Nothing is sent.'),
      h(
        'div',
        { class: 'webhook-form' },
        h('div', { class: 'field' }, h('label', { for: 'f-event-type' }, 'Event type'), eventType, h('p', { class: 'field-error', id: 'error-event-type', role: 'alert' })),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'f-event-data' }, 'Event data (JSON)'),
          eventData,
          h('p', { class: 'hint', id: 'hint-event-data' }, 'The event\'s data, as POST /v1/events takes it.'),
          h('p', { class: 'field-error', id: 'error-event-data', role: 'alert' }),
        ),
        h('div', { class: 'actions' }, test),
      ),
      result,
    ),
  );
}

/** What the test answered: the request that would be sent, "canceled", or the error. */
function testOutcome(answer: TransformationTest): HTMLElement {
  if (answer.outcome === 'cancel') {
    return h('section', { class: 'notice', role: 'status' }, h('h3', {}, 'Canceled'), h('p', {}, 'The handler canceled it: nothing would be sent, and the delivery would end canceled.'));
  }
  if (answer.outcome === 'failed' || !answer.request) {
    return h('section', { class: 'notice bad', role: 'status' }, h('h3', {}, 'The transformation failed'), h('pre', { class: 'excerpt' }, answer.error ?? 'no request'), h('p', {}, 'The attempt would fail without sending anything.'));
  }
  const { method, url, headers, body } = answer.request;
  return h(
    'section',
    { class: 'notice ok', role: 'status' },
    h('h3', {}, 'Would be sent'),
    definitionList([
      ['Method', method],
      ['URL', h('code', { class: 'url' }, url)],
      ['Headers', h('ul', { class: 'plain headers-sent' }, Object.entries(headers).map(([name, value]) => h('li', {}, h('code', {}, `${name}: ${value}`))))],
      ['Body', h('pre', { class: 'json test-body' }, prettyBody(body))],
      ['Version', answer.transformation ?? '—'],
    ]),
  );
}
