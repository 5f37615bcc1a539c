import { ApiFailure, sessionApi, setCsrfToken } from './api.js';
import type { Flash, PageContext } from './context.js';
import { h, mount } from './dom.js';
import { dateTime } from './format.js';
import { deliveriesPage } from './pages/deliveries.js';
import { deliveryPage } from './pages/delivery.js';
import { deliveryLogPage } from './pages/delivery-log.js';
import { eventsPage } from './pages/events.js';
import { sourceFormPage } from './pages/source-form.js';
import { sourcesPage } from './pages/sources.js';
import { transformationPage } from './pages/transformation.js';
import { webhookFormPage } from './pages/webhook-form.js';
import { webhookPage } from './pages/webhook.js';
import { webhooksPage } from './pages/webhooks.js';
import type { SessionState } from './types.js';
import { errorPanel } from './ui.js';

/**
 * The portal's entry: opens a link (its token is in the URL fragment), loads the session, and
 * renders the page of the current path. Links marked `data-nav` move without reloading.
 */

type Render = (main: HTMLElement, ctx: PageContext) => Promise<void>;
const ROUTES: [RegExp, Render, string][] = [
  [/^\/portal\/?$/, webhooksPage, 'Webhooks'],
  [/^\/portal\/webhooks\/?$/, webhooksPage, 'Webhooks'],
  [/^\/portal\/webhooks\/new$/, webhookFormPage, 'New webhook'],
  [/^\/portal\/webhooks\/(?<id>[^/]+)\/edit$/, webhookFormPage, 'Edit webhook'],
  [/^\/portal\/webhooks\/(?<id>[^/]+)\/deliveries$/, deliveriesPage, 'Deliveries'],
  [/^\/portal\/webhooks\/(?<id>[^/]+)\/transformation$/, transformationPage, 'Transformation'],
  [/^\/portal\/webhooks\/(?<id>[^/]+)$/, webhookPage, 'Webhook'],
  [/^\/portal\/deliveries\/?$/, deliveryLogPage, 'Deliveries'],
  [/^\/portal\/deliveries\/(?<id>[^/]+)$/, deliveryPage, 'Delivery'],
  [/^\/portal\/events\/?$/, eventsPage, 'Events'],
  [/^\/portal\/sources\/?$/, sourcesPage, 'Sources'],
  [/^\/portal\/sources\/new$/, sourceFormPage, 'New source'],
];

const main = document.getElementById('main') as HTMLElement;
let session: SessionState['session'] | undefined;
let service: SessionState['service'] = { allowHttpUrls: false };
let pendingFlash: Flash | undefined;

function showSession(): void {
  const box = document.getElementById('session') as HTMLElement;
  if (!session) return mount(box);
  const signOut = h(
    'button',
    {
      type: 'button',
      class: 'secondary small',
      onclick: async () => {
        await sessionApi('DELETE').catch(() => undefined);
        session = undefined;
        showSession();
        mount(main, h('h1', {}, 'Signed out'), h('p', {}, 'Open the portal again from the application that sent you here.'));
      },
    },
    'Sign out',
  );
  mount(
    box,
    h('span', { class: 'tenant' }, session.tenantName),
    session.readOnly ? h('span', { class: 'badge readonly', title: 'You can look at everything but not change anything' }, 'read-only') : null,
    h('span', { class: 'expires' }, `until ${dateTime(session.expiresAt)}`),
    signOut,
  );
}

async function render(): Promise<void> {
  const path = location.pathname;
  const match = ROUTES.map(([pattern, page, title]) => ({ m: pattern.exec(path), page, title })).find((r) => r.m);
  if (!session) return;
  const flash = pendingFlash;
  pendingFlash = undefined;
  mount(main, h('p', { class: 'loading' }, 'Loading…'));
  if (!match) {
    document.title = 'Not found · Webhooks';
    mount(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/portal/webhooks', 'data-nav': true }, 'Go to your webhooks')));
    return;
  }
  document.title = `${match.title} · ${session.tenantName}`;
  const ctx: PageContext = { session, service, navigate, flash, params: match.m!.groups ?? {}, query: new URLSearchParams(location.search) };
  try {
    await match.page(main, ctx);
  } catch (err) {
    mount(main, h('h1', {}, match.title), errorPanel(err));
  }
}

function navigate(path: string, flash?: Flash): void {
  pendingFlash = flash;
  history.pushState(null, '', path);
  // Focus moves to the new page unless the user already moved it there (a page can still be
  // loading its charts when a keyboard user tabs to a button).
  void render().then(() => {
    if (!main.contains(document.activeElement)) main.focus();
  });
}

document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
});
window.addEventListener('popstate', () => void render());

async function start(): Promise<void> {
  try {
    let state: SessionState;
    if (location.pathname === '/portal/open') {
      const token = location.hash.slice(1);
      // The token leaves the address bar (and history) before anything else happens.
      history.replaceState(null, '', '/portal/open');
      if (!token) throw new ApiFailure(401, 'portal_link_invalid', 'no token in the link');
      state = await sessionApi<SessionState>('POST', { token });
      history.replaceState(null, '', '/portal/webhooks');
    } else {
      // The page carries the session's state when the server found the session live.
      const embedded = document.querySelector<HTMLMetaElement>('meta[name="portal-session"]')?.content;
      state = embedded ? (JSON.parse(embedded) as SessionState) : await sessionApi<SessionState>('GET');
    }
    session = state.session;
    service = state.service ?? service;
    setCsrfToken(state.csrfToken);
    showSession();
    await render();
  } catch (err) {
    document.title = 'Portal · Webhooks';
    mount(main, h('h1', {}, 'Cannot open the portal'), errorPanel(err));
  }
}

void start();
