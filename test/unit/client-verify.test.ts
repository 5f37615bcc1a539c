import { Webhook } from 'standardwebhooks';
import { verify, WebhookVerificationError } from '../../packages/client/src';
import { signatureHeader } from '../../src/signing/signature';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';

const secret = generateWebhookSecret();
const body = JSON.stringify({ id: 'evt_1', type: 'invoice.created', timestamp: '2026-01-01T00:00:00.000Z', tenant_id: 'ten_1', data: { amount: 42 }, metadata: {} });

/** Headers of a message signed by the `standardwebhooks` package (an implementation we did not write). */
function signedByStandardWebhooks(options: { secret?: string; id?: string; at?: Date; payload?: string } = {}): Record<string, string> {
  const at = options.at ?? new Date();
  const id = options.id ?? 'dlv_1';
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(options.secret ?? secret).sign(id, at, options.payload ?? body),
  };
}

/** Both verifiers' verdicts on one request: the returned payload, or that it threw. */
function verdicts(headers: Record<string, string>, payload: string, key = secret) {
  const attempt = (check: () => unknown) => {
    try {
      return { payload: check() };
    } catch (err) {
      return { threw: err instanceof Error ? err.name : String(err) };
    }
  };
  return { ours: attempt(() => verify(key, headers, payload)), standardWebhooks: attempt(() => new Webhook(key).verify(payload, headers)) };
}

describe('verify (Standard Webhooks, for receivers)', () => {
  it('accepts what the standardwebhooks package signs, and returns the parsed body', () => {
    expect(verdicts(signedByStandardWebhooks(), body)).toEqual({ ours: { payload: JSON.parse(body) }, standardWebhooks: { payload: JSON.parse(body) } });
  });

  it('takes the body as bytes and the headers as Node or fetch gives them, in any case', () => {
    const headers = signedByStandardWebhooks();
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify(secret, upper, Buffer.from(body))).toEqual(JSON.parse(body));
    expect(verify(secret, new Headers(headers), new TextEncoder().encode(body))).toEqual(JSON.parse(body));
  });

  it('matches the Standard Webhooks test vector', () => {
    const headers = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
    expect(verify('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers, '{"test": 2432232314}', { now: () => 1614265330_000 })).toEqual({ test: 2432232314 });
  });

  it('accepts a request signed during a secret rotation with either secret, as the service signs it', () => {
    const previous = generateWebhookSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'dlv_2', 'webhook-timestamp': String(now), 'webhook-signature': signatureHeader([secret, previous], 'dlv_2', now, body) };
    for (const key of [secret, previous]) expect(verdicts(headers, body, key)).toEqual({ ours: { payload: JSON.parse(body) }, standardWebhooks: { payload: JSON.parse(body) } });
    expect(verify([generateWebhookSecret(), previous], headers, body)).toEqual(JSON.parse(body));
  });

  const rejected: [string, () => { headers: Record<string, string>; payload: string; key?: string }][] = [
    ['a tampered body', () => ({ headers: signedByStandardWebhooks(), payload: body.replace('42', '43') })],
    ['a timestamp over 5 minutes old', () => ({ headers: signedByStandardWebhooks({ at: new Date(Date.now() - 6 * 60_000) }), payload: body })],
    ['a timestamp over 5 minutes ahead', () => ({ headers: signedByStandardWebhooks({ at: new Date(Date.now() + 6 * 60_000) }), payload: body })],
    ['another secret', () => ({ headers: signedByStandardWebhooks(), payload: body, key: generateWebhookSecret() })],
    ['the signature of another message id', () => ({ headers: { ...signedByStandardWebhooks({ id: 'dlv_other' }), 'webhook-id': 'dlv_1' }, payload: body })],
    ['a changed timestamp', () => {
      const headers = signedByStandardWebhooks();
      return { headers: { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) }, payload: body };
    }],
    ['a signature of another version only', () => {
      const headers = signedByStandardWebhooks();
      return { headers: { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') }, payload: body };
    }],
    ['no webhook-signature', () => {
      const headers = Object.fromEntries(Object.entries(signedByStandardWebhooks()).filter(([name]) => name !== 'webhook-signature'));
      return { headers, payload: body };
    }],
  ];

  it.each(rejected)('rejects %s, as the standardwebhooks package does', (_name, build) => {
    const { headers, payload, key } = build();
    const result = verdicts(headers, payload, key);
    expect(result.standardWebhooks).toEqual({ threw: 'WebhookVerificationError' });
    expect(result.ours).toEqual({ threw: 'WebhookVerificationError' });
    expect(() => verify(key ?? secret, headers, payload)).toThrow(WebhookVerificationError);
  });

  it('takes a narrower tolerance when asked', () => {
    const headers = signedByStandardWebhooks({ at: new Date(Date.now() - 90_000) });
    expect(verify(secret, headers, body)).toEqual(JSON.parse(body));
    expect(() => verify(secret, headers, body, { toleranceSeconds: 60 })).toThrow('too old');
  });
});
