import { ApiFailure } from './api.js';
import { h, mount, type Child } from './dom.js';
import { fieldLabel } from './field-labels.js';
import type { DeliveryStatus, Webhook } from './types.js';

/** Pieces every page uses: error panels, status badges, confirmation dialogs, copy buttons. */

/** An error in words (never a blank page), with each invalid field named. */
export function errorPanel(err: unknown): HTMLElement {
  const failure = err instanceof ApiFailure ? err : new ApiFailure(0, 'client_error', err instanceof Error ? err.message : String(err));
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, failure.words),
    failure.details.length ? h('ul', {}, failure.details.map((d) => h('li', {}, fieldLabel(d.path), ': ', d.message))) : null,
  );
}

export function notice(text: Child, kind: 'ok' | 'info' = 'info'): HTMLElement {
  return h('div', { class: `notice ${kind}`, role: 'status' }, text);
}

export function statusBadge(status: DeliveryStatus): HTMLElement {
  return h('span', { class: `badge status-${status}` }, status);
}

/** Active, inactive (turned off by the customer) or disabled by the service, and why. */
export function webhookState(webhook: Webhook): HTMLElement {
  if (webhook.active) return h('span', { class: 'badge state-active' }, 'active');
  if (webhook.disabledReason) return h('span', { class: 'state' }, h('span', { class: 'badge state-disabled' }, 'disabled'), ' ', h('span', { class: 'reason' }, webhook.disabledReason));
  return h('span', { class: 'badge state-inactive' }, 'disabled by you');
}

/** A modal question (a native <dialog>: focus stays inside, Escape cancels). */
export function confirmAction(question: string, detail: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, question),
        h('p', {}, detail),
        h('div', { class: 'actions' }, h('button', { value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'), h('button', { value: 'confirm', class: 'danger' }, confirmLabel)),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A read-only value (a secret, an ingest URL) with a button that copies it. */
export function copyRow(value: string, label: string, id?: string): HTMLElement {
  const field = h('input', { type: 'text', readonly: true, value, class: 'secret', 'aria-label': label, id });
  const status = h('span', { class: 'copy-status', role: 'status' });
  const copy = h(
    'button',
    {
      type: 'button',
      'aria-label': `Copy ${label.charAt(0).toLowerCase()}${label.slice(1)}`,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(value);
          status.textContent = 'Copied.';
        } catch {
          field.select();
          status.textContent = document.execCommand('copy') ? 'Copied.' : 'Select it and copy it by hand.';
        }
      },
    },
    'Copy',
  );
  return h('div', { class: 'row' }, field, copy, status);
}

/** A secret shown once, with a copy button. */
export function secretPanel(title: string, secret: string, note: string): HTMLElement {
  return h('section', { class: 'secret-panel', 'aria-labelledby': 'secret-title' }, h('h2', { id: 'secret-title' }, title), h('p', {}, note), copyRow(secret, 'Signing secret', 'secret-value'));
}

export function definitionList(rows: [string, Child | Child[]][]): HTMLElement {
  return h('dl', { class: 'facts' }, rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** A list's "Show more" button in `slot` while there is a next page: `load` appends it; a failure shows in the slot. */
export function showMore(slot: HTMLElement, nextCursor: string | null, load: (cursor: string) => Promise<void>): void {
  mount(
    slot,
    nextCursor
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: async () => {
              try {
                await load(nextCursor);
              } catch (err) {
                mount(slot, errorPanel(err));
              }
            },
          },
          'Show more',
        )
      : null,
  );
}
