import { eventually } from '../support/stack';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { verifiedPayload } from '../support/signatures';
import { useHarness } from '../support/use-harness';

/**
 * Editing a webhook while its deliveries flow (dev server, the MongoDB-wire server, a loopback
 * receiver): on FerretDB an update rewrites the whole document, so a counter write of the
 * delivery engine to the webhook's document could put back what an edit had just changed, and an
 * edit could put back a counter. Every edit must stay, and the counts must be exact.
 */
describe('webhook edits during deliveries', () => {
  // No overlap: after a rotation only the new secret signs, so a reverted rotation shows.
  const ctx = useHarness({ receivers: 1, secretRotationOverlapSeconds: 0 });
  const EVENTS = 60;

  it('never reverts an edit or a secret rotation, and counts every delivery', async () => {
    const { harness } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: ctx.receiver.url('/edit-0'), events: ['job.*'], description: 'edit 0' });
    const path = `/v1/webhooks/${webhookId}`;

    // The deliveries: events sent ten at a time, each delivered on its first attempt.
    let sending = true;
    const sent = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < EVENTS; i += 10) {
        ids.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => harness.sendEvent(apiKey, { type: 'job.done', data: { n: i + j } })))));
      }
      await Promise.all(ids.map((id) => harness.client.workflow.getHandle(eventWorkflowId(tenantId, id)).result()));
      sending = false;
    })();

    // Meanwhile: edits of three fields in turn, each checked a moment after its answer.
    const expected = { description: 'edit 0', url: ctx.receiver.url('/edit-0'), headers: {} as Record<string, string> };
    const reverted: string[] = [];
    let secret = '';
    let edits = 0;
    while (sending || edits < 30) {
      edits++;
      const change =
        edits % 3 === 0 ? { description: `edit ${edits}` } : edits % 3 === 1 ? { url: ctx.receiver.url(`/edit-${edits}`) } : { headers: { 'X-Edit': String(edits) } };
      const patched = await harness.call('PATCH', path, { token: apiKey, body: change });
      expect(patched.status).toBe(200);
      Object.assign(expected, change);
      if (edits === 10) {
        const rotated = await harness.call('POST', `${path}/rotate-secret`, { token: apiKey, body: {} });
        expect(rotated.status).toBe(200);
        secret = rotated.body.secret;
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      const { webhook } = (await harness.call('GET', path, { token: apiKey })).body;
      const seen = { description: webhook.description, url: webhook.url, headers: webhook.headers };
      if (JSON.stringify(seen) !== JSON.stringify(expected)) reverted.push(`after edit ${edits}: ${JSON.stringify(seen)}`);
    }
    await sent;
    expect(reverted).toEqual([]);

    // A fan-out closes once its first attempts are made or handed over: a first attempt slower than
    // the inline budget (a loaded machine) is recorded by its delivery workflow a little later.
    const settled = await eventually(async () => {
      const { webhook } = (await harness.call('GET', path, { token: apiKey })).body;
      return webhook.deliverySuccessCount >= EVENTS ? webhook : undefined;
    }, 30_000, 'every delivery counted');
    expect(settled).toMatchObject({ ...expected, active: true, deliverySuccessCount: EVENTS, deliveryFailureCount: 0 });
    expect(ctx.receiver.requests).toHaveLength(EVENTS);

    // The rotation stayed: the next delivery is signed with the rotated secret alone.
    const last = await harness.sendEvent(apiKey, { type: 'job.done', data: { n: 'last' } });
    await harness.client.workflow.getHandle(eventWorkflowId(tenantId, last)).result();
    const request = ctx.receiver.requests[EVENTS];
    expect(request.path).toBe(new URL(expected.url).pathname);
    expect(request.headers['x-edit']).toBe(expected.headers['X-Edit']);
    expect(verifiedPayload(request, secret)).toMatchObject({ type: 'job.done', data: { n: 'last' } });
    const counted = await eventually(async () => {
      const { webhook } = (await harness.call('GET', path, { token: apiKey })).body;
      return webhook.deliverySuccessCount >= EVENTS + 1 ? webhook.deliverySuccessCount : undefined;
    }, 30_000, 'the last delivery counted');
    expect(counted).toBe(EVENTS + 1);
  });
});
