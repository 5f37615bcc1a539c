import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { legacySignature, signatureHeader, standardWebhookSignature } from '../../src/signing/signature';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';

describe('Standard Webhooks signature', () => {
  it('matches the official test vector', () => {
    expect(
      standardWebhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is accepted by the standardwebhooks package for a generated secret', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ id: 'evt_1', type: 'invoice.created', data: { amount: 1 } });
    const now = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'dlv_1', 'webhook-timestamp': String(now), 'webhook-signature': signatureHeader([secret], 'dlv_1', now, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('carries one signature per secret during a rotation overlap, each verifiable alone', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const now = Math.floor(Date.now() / 1000);
    const header = signatureHeader([current, previous], 'dlv_2', now, '{}');
    expect(header.split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(() => new Webhook(secret).verify('{}', { 'webhook-id': 'dlv_2', 'webhook-timestamp': String(now), 'webhook-signature': header })).not.toThrow();
    }
    expect(() => new Webhook(generateWebhookSecret()).verify('{}', { 'webhook-id': 'dlv_2', 'webhook-timestamp': String(now), 'webhook-signature': header })).toThrow();
  });

  it('signs the compatibility header as bare hex keyed with the whole secret string', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const expected = createHmac('sha256', secret).update('{"a":1}').digest('hex');
    expect(legacySignature(secret, '{"a":1}')).toBe(expected);
    expect(legacySignature(secret, '{"a":1}')).toMatch(/^[0-9a-f]{64}$/);
  });
});
