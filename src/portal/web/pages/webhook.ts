import { api } from '../api.js';
import { deliveriesChart, latencyChart } from '../chart.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { ago, dateTime, duration, successRate } from '../format.js';
import type { TestResult, Webhook, WebhookStats } from '../types.js';
import { FORMAT_LABELS } from './webhook-form.js';
import { recoverPanel } from './webhook-recover.js';
import { confirmAction, definitionList, errorPanel, notice, secretPanel, webhookState } from '../ui.js';

/**
 * Draws the charts again when their box changes width (a window resized, a phone turned), at
 * most once a frame, while they are on the page.
 */
function redrawOnResize(box: HTMLElement, draw: () => void): void {
  let width = box.clientWidth;
  let frame = 0;
  const observer = new ResizeObserver(() => {
    if (!box.isConnected) return observer.disconnect();
    if (box.clientWidth === width || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      width = box.clientWidth;
      draw();
    });
  });
  observer.observe(box);
}

/**
 * One webhook: its settings and state; enable, disable, delete (confirmed), rotate the secret
 * (shown once), send a test event and show the receiver's answer; recover failed deliveries
 * (webhook-recover.ts); the deliveries chart.
 */
export async function webhookPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.params.id;
  const path = `/webhooks/${encodeURIComponent(id)}`;
  const { webhook } = await api<{ webhook: Webhook }>('GET', path);
  const feedback = h('div', { class: 'feedback', tabindex: -1 });
  const say = (...nodes: HTMLElement[]) => {
    mount(feedback, ...nodes);
    feedback.focus();
  };
  const act = (label: string, handler: () => Promise<void>, kind = 'secondary') =>
    h(
      'button',
      {
        type: 'button',
        class: kind,
        disabled: ctx.session.readOnly,
        title: ctx.session.readOnly ? 'Read-only session' : undefined,
        onclick: async (event: Event) => {
          const button = event.currentTarget as HTMLButtonElement;
          button.disabled = true;
          try {
            await handler();
          } catch (err) {
            say(errorPanel(err));
          } finally {
            button.disabled = false;
          }
        },
      },
      label,
    );

  const setActive = async (active: boolean) => {
    if (!active && !(await confirmAction('Disable this webhook?', 'It gets no new events, and deliveries still retrying stop. You can enable it again.', 'Disable'))) return;
    await api('PATCH', path, { active });
    ctx.navigate(`/portal/webhooks/${id}`, { message: active ? 'Webhook enabled.' : 'Webhook disabled.' });
  };

  const actions = h(
    'div',
    { class: 'actions wrap' },
    h('a', { href: `/portal/webhooks/${id}/deliveries`, 'data-nav': true, class: 'button' }, 'Deliveries'),
    ctx.session.readOnly
      ? h('button', { type: 'button', class: 'secondary', disabled: true, title: 'Read-only session' }, 'Edit')
      : h('a', { href: `/portal/webhooks/${id}/edit`, 'data-nav': true, class: 'button secondary' }, 'Edit'),
    // A read-only session may read the code; the page disables its changes.
    h('a', { href: `/portal/webhooks/${id}/transformation`, 'data-nav': true, class: 'button secondary' }, 'Transformation'),
    act('Send test event', async () => {
      say(notice('Sending a test event…'));
      const result = await api<TestResult>('POST', `${path}/test`, {});
      say(
        h(
          'section',
          { class: result.success ? 'notice ok' : 'notice bad', role: 'status', 'aria-labelledby': 'test-title' },
          h('h2', { id: 'test-title' }, result.success ? 'Test event delivered' : 'Test event not delivered'),
          definitionList([
            ['Status', result.statusCode === null ? 'no answer' : `HTTP ${result.statusCode}`],
            ['Duration', duration(result.durationMs)],
            ['Error', result.error ?? '—'],
            ['Response', result.response ? h('pre', { class: 'excerpt' }, result.response) : '—'],
          ]),
        ),
      );
    }),
    webhook.active ? act('Disable', () => setActive(false)) : act('Enable', () => setActive(true)),
    act('Rotate secret', async () => {
      if (!(await confirmAction('Rotate the signing secret?', 'A new secret signs every request from now on. The previous one keeps signing beside it for a while, so your receiver can switch without failures.', 'Rotate'))) return;
      const rotated = await api<{ secret: string; previousSecretExpiresAt: string | null }>('POST', `${path}/rotate-secret`, {});
      say(
        secretPanel(
          'New signing secret',
          rotated.secret,
          `Copy it now: it is shown only once. ${rotated.previousSecretExpiresAt ? `The previous secret keeps signing until ${dateTime(rotated.previousSecretExpiresAt)}.` : 'The previous secret no longer signs.'}`,
        ),
      );
    }),
    act(
      'Delete',
      async () => {
        if (!(await confirmAction('Delete this webhook?', `${webhook.url} gets no more events; deliveries still retrying stop. This cannot be undone.`, 'Delete'))) return;
        await api('DELETE', path);
        ctx.navigate('/portal/webhooks', { message: 'Webhook deleted.' });
      },
      'danger',
    ),
  );

  const charts = h('section', { class: 'charts', 'aria-labelledby': 'charts-title' }, h('h2', { id: 'charts-title' }, 'Last 3 days'), h('p', { class: 'loading' }, 'Loading the charts…'));
  mount(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '/portal/webhooks', 'data-nav': true }, 'Webhooks')),
    h('h1', { class: 'url' }, webhook.url),
    ctx.flash?.message ? notice(ctx.flash.message, 'ok') : null,
    ctx.flash?.secret ? secretPanel(ctx.flash.secret.title, ctx.flash.secret.value, ctx.flash.secret.note) : null,
    actions,
    feedback,
    definitionList([
      ['State', webhookState(webhook)],
      ['Description', webhook.description ?? '—'],
      ['Event types', webhook.events.join(', ')],
      ['Success rate', successRate(webhook.deliverySuccessCount, webhook.deliveryFailureCount)],
      ['Last delivery', webhook.lastTriggeredAt ? `${ago(webhook.lastTriggeredAt)} (${dateTime(webhook.lastTriggeredAt)})` : 'never'],
      ['Timeout', `${webhook.timeoutSeconds} s`],
      ['Retry schedule', webhook.retrySchedule?.join(', ') ?? 'default (1m, 5m, 15m, 1h, 2h)'],
      ['Circuit breaker', circuitState(webhook)],
      ['Rate limit', webhook.rateLimitPerSecond ? `${webhook.rateLimitPerSecond} requests per second` : 'none'],
      ['Ordering', webhook.ordering === 'fifo' ? 'FIFO: one at a time, in acceptance order' : 'unordered'],
      ['Format', FORMAT_LABELS[webhook.format] ?? webhook.format],
      [
        'Transformation',
        webhook.transformation
          ? `${webhook.transformation.enabled ? 'enabled: it reshapes every request' : 'disabled: requests are sent unchanged'} (version ${webhook.transformation.version})`
          : 'none',
      ],
      ['Payload filter', webhook.filter ? h('code', {}, JSON.stringify(webhook.filter)) : 'none: every event of its types'],
      ['Legacy signature', webhook.legacySignature ? 'sent (X-Webhook-Signature, replayable)' : 'not sent'],
      [
        'Custom headers',
        Object.keys(webhook.headers).length + webhook.sensitiveHeaders.length
          ? h('ul', { class: 'plain' }, Object.entries(webhook.headers).map(([n, v]) => h('li', {}, h('code', {}, `${n}: ${v}`))), webhook.sensitiveHeaders.map((n) => h('li', {}, h('code', {}, `${n}: (hidden)`))))
          : 'none',
      ],
      ['Id', h('code', {}, webhook.id)],
      ['Created', dateTime(webhook.createdAt)],
    ]),
    // Not shown to a read-only session at all (the API refuses it too): a form, not one more disabled button.
    ctx.session.readOnly ? null : recoverPanel(id),
    charts,
  );

  try {
    const stats = await api<WebhookStats>('GET', `${path}/stats?hours=72`);
    const draw = () =>
      mount(
        charts,
        h('h2', { id: 'charts-title' }, 'Last 3 days'),
        h('h3', {}, 'Deliveries per hour'),
        deliveriesChart(stats),
        h('h3', {}, 'Attempt latency (recent deliveries)'),
        latencyChart(stats),
      );
    draw();
    redrawOnResize(charts, draw);
  } catch (err) {
    mount(charts, h('h2', { id: 'charts-title' }, 'Last 3 days'), errorPanel(err));
  }
}

/** What the circuit breaker means for the customer's deliveries right now. */
function circuitState({ circuit }: Webhook): string {
  if (circuit.state === 'closed') return 'closed: requests are sent';
  if (circuit.state === 'half-open') return `half-open since ${dateTime(circuit.since!)}: one delivery is probing the receiver`;
  const probe = circuit.nextProbeAt ? `; next probe ${dateTime(circuit.nextProbeAt)}` : '';
  return `open since ${dateTime(circuit.since!)}: the receiver kept failing, so no requests are sent and deliveries wait without spending attempts${probe}`;
}
