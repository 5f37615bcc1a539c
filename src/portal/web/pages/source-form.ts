import { api, ApiFailure } from '../api.js';
import type { PageContext } from '../context.js';
import { h, mount } from '../dom.js';
import { fieldLabel } from '../field-labels.js';
import { SOURCE_TYPES, type Source, type SourceType } from '../types.js';
import { errorPanel } from '../ui.js';
import { SOURCE_TYPE_LABELS } from './sources.js';

/**
 * A new inbound source: name, type, the provider's signing secret (sent once, never shown again)
 * and, for a generic HMAC sender, how it signs. Sends POST /sources; a refused field is named at
 * its input; the new ingest URL is shown on the sources page with a copy button.
 */

const SECRET_HINTS: Record<SourceType, string> = {
  github: 'The webhook\'s secret as set in GitHub (it signs X-Hub-Signature-256).',
  stripe: 'The endpoint\'s signing secret from Stripe, whsec_…',
  shopify: 'The app\'s client secret (it signs X-Shopify-Hmac-Sha256).',
  'standard-webhooks': 'The sender\'s secret: whsec_ followed by base64.',
  hmac: 'The secret the sender keys its HMAC with.',
};

function field(id: string, label: string, input: HTMLElement, hint = ''): HTMLElement {
  input.id = `f-${id}`;
  input.setAttribute('aria-describedby', `hint-${id} error-${id}`);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: `f-${id}` }, label),
    input,
    h('p', { class: 'hint', id: `hint-${id}` }, hint),
    h('p', { class: 'field-error', id: `error-${id}`, role: 'alert' }),
  );
}

const select = (values: readonly string[], labels: Record<string, string> = {}) => h('select', {}, values.map((v) => h('option', { value: v }, labels[v] ?? v))) as HTMLSelectElement;

export async function sourceFormPage(main: HTMLElement, ctx: PageContext): Promise<void> {
  const name = h('input', { type: 'text', required: true, maxlength: 200 });
  const type = select(SOURCE_TYPES, SOURCE_TYPE_LABELS);
  // A password input: typed once, never read back (the API never returns it either).
  const secret = h('input', { type: 'password', required: true, autocomplete: 'off', maxlength: 512 });
  const header = h('input', { type: 'text', placeholder: 'X-Signature' });
  const algorithm = select(['sha256', 'sha512'], { sha256: 'HMAC-SHA256', sha512: 'HMAC-SHA512' });
  const encoding = select(['hex', 'base64']);
  const prefix = h('input', { type: 'text', placeholder: 'e.g. sha256=' });
  const eventType = h('input', { type: 'text', placeholder: 'event' });
  const eventTypeHeader = h('input', { type: 'text', placeholder: 'e.g. X-Event-Type' });
  const idHeader = h('input', { type: 'text', placeholder: 'e.g. X-Delivery-Id' });
  const hmacFields: [string, HTMLInputElement | HTMLSelectElement][] = [
    ['header', header],
    ['algorithm', algorithm],
    ['encoding', encoding],
    ['prefix', prefix],
    ['eventType', eventType],
    ['eventTypeHeader', eventTypeHeader],
    ['idHeader', idHeader],
  ];
  const hmac = h(
    'fieldset',
    { class: 'hmac' },
    h('legend', {}, 'How the sender signs'),
    field('hmac-header', 'Signature header', header, 'The request header carrying the signature.'),
    field('hmac-algorithm', 'Algorithm', algorithm, 'The HMAC of the raw body, keyed with the secret.'),
    field('hmac-encoding', 'Encoding', encoding, 'How the header writes the digest.'),
    field('hmac-prefix', 'Prefix (optional)', prefix, 'Text before the digest in the header, e.g. sha256=.'),
    field('hmac-eventType', 'Event type (optional)', eventType, 'Events are hmac.<this> (default hmac.event) unless the event type header names one.'),
    field('hmac-eventTypeHeader', 'Event type header (optional)', eventTypeHeader, 'A header naming the event: its value gives hmac.<value>.'),
    field('hmac-idHeader', 'Delivery id header (optional)', idHeader, 'A header with the sender\'s delivery id, the same on its retries. Without it, the same body twice is one event.'),
  );
  const secretField = field('secret', 'Secret', secret);
  const showType = () => {
    hmac.hidden = type.value !== 'hmac';
    (secretField.querySelector('.hint') as HTMLElement).textContent = SECRET_HINTS[type.value as SourceType];
  };
  type.addEventListener('change', showType);
  showType();

  const summary = h('div', { class: 'form-errors', tabindex: -1 });
  const showErrors = (err: unknown) => {
    for (const slot of main.querySelectorAll('.field-error')) slot.textContent = '';
    mount(summary, errorPanel(err));
    if (err instanceof ApiFailure) {
      for (const d of err.details) {
        const slot = main.querySelector(`#error-${CSS.escape(d.path.replace('.', '-'))}`) ?? main.querySelector('#error-name');
        slot!.textContent = [slot!.textContent, `${fieldLabel(d.path)}: ${d.message}`].filter(Boolean).join(' · ');
      }
    }
    summary.focus();
  };

  const submit = h('button', { type: 'submit' }, 'Create source');
  const form = h(
    'form',
    {
      class: 'webhook-form source-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const body: Record<string, unknown> = { name: name.value.trim(), type: type.value, secret: secret.value };
        if (type.value === 'hmac') {
          const settings: Record<string, string> = {};
          // Left empty, an optional setting takes its default.
          for (const [key, input] of hmacFields) if (input.value.trim()) settings[key] = input.value.trim();
          body.hmac = settings;
        }
        submit.disabled = true;
        try {
          const { source } = await api<{ source: Source & { ingestUrl: string } }>('POST', '/sources', body);
          ctx.navigate('/portal/sources', {
            message: 'Source created.',
            ingestUrl: { title: `Ingest URL of ${source.name}`, value: source.ingestUrl, note: 'Set it as the webhook URL in the provider\'s settings. It is a credential: whoever has it can send requests (they still need a valid signature).' },
          });
        } catch (err) {
          showErrors(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    summary,
    field('name', 'Name', name, 'For you to recognise it, e.g. "GitHub: acme/shop".'),
    field('type', 'Type', type, 'The provider, which sets how requests are signed and what the events are called (github.push, stripe.invoice.paid…).'),
    secretField,
    hmac,
    h('div', { class: 'actions' }, submit, h('a', { href: '/portal/sources', 'data-nav': true, class: 'button secondary' }, 'Cancel')),
  );
  if (ctx.session.readOnly) submit.disabled = true;

  mount(main, h('p', { class: 'crumbs' }, h('a', { href: '/portal/sources', 'data-nav': true }, 'Sources')), h('h1', {}, 'New source'), form);
}
