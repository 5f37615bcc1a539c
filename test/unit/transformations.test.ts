import { Worker } from 'node:worker_threads';
import { SandboxError } from '../../src/transformations/sandbox';
import { SandboxHost } from '../../src/transformations/sandbox-host';
import { codeVersion, transformationOutput } from '../../src/transformations/transformation';
import { Transformations } from '../../src/transformations/transformations';

const input = { eventType: 'invoice.paid', eventId: 'evt_1', url: 'https://example.com/hook', method: 'POST' as const, headers: { 'X-Team': 'billing' }, payload: { data: { n: 1 } } };

describe('transformation results', () => {
  it('takes the request as the handler changed it, method upper-cased, unknown fields ignored', () => {
    expect(transformationOutput(JSON.stringify({ ...input, method: 'put', payload: [1], extra: true }))).toEqual({
      cancel: false,
      url: 'https://example.com/hook',
      method: 'PUT',
      headers: { 'X-Team': 'billing' },
      payload: [1],
    });
    expect(transformationOutput(JSON.stringify({ cancel: true }))).toEqual({ cancel: true });
  });

  it.each([
    ['null', 'handler must return an object (the webhook, changed)'],
    ['[1]', 'handler must return an object (the webhook, changed)'],
    [JSON.stringify({ ...input, url: 'ftp://x' }), 'handler returned a wrong shape: url: url must be an http(s) URL'],
    [JSON.stringify({ ...input, payload: null }), 'handler returned a wrong shape: payload: payload is missing'],
    [JSON.stringify({ ...input, headers: { 'bad name': 'x' } }), 'handler returned a wrong shape: headers.bad name: header names must be RFC 7230 tokens'],
    [JSON.stringify({ ...input, headers: { 'X-A': 'line\nbreak' } }), 'handler returned a wrong shape: headers.X-A: values may hold at most 4096 visible ASCII characters, space and tab'],
    [JSON.stringify({ ...input, headers: { Host: 'evil' } }), 'handler returned a wrong shape: headers.Host: is reserved and cannot be set'],
    [JSON.stringify({ ...input, headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-${i}`, 'v'])) }), 'handler returned a wrong shape: headers: at most 20 headers'],
  ])('refuses %s', (json, message) => {
    expect(() => transformationOutput(json)).toThrow(message);
  });

  it('names a version by its code alone', () => {
    expect(codeVersion('function handler(w) { return w; }')).toMatch(/^[0-9a-f]{16}$/);
    expect(codeVersion('a')).not.toBe(codeVersion('b'));
  });
});

describe('the sandbox thread', () => {
  it('ends a call that holds it past the hard limit, fails that call only, and goes on', async () => {
    const host = new SandboxHost(undefined, 300);
    try {
      // Native work between interrupt checks: QuickJS alone would run it for seconds.
      const stuck = 'function handler(w) { const a = []; for (;;) a.push(new Array(1e5).fill(a.length)); }';
      const started = Date.now();
      const held = host.call({ kind: 'run', version: 'stuck', code: stuck, input: '{}' });
      // Queued behind it: runs on the thread started after it.
      const queued = host.call({ kind: 'run', version: 'ok', code: 'function handler(w) { return w.n + 1; }', input: '{"n":1}' });
      await expect(held).rejects.toThrow(new SandboxError('time limit exceeded'));
      expect(await queued).toBe('2');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await host.call({ kind: 'run', version: 'ok', code: 'function handler(w) { return w.n + 1; }', input: '{"n":41}' })).toBe('42');
    } finally {
      await host.close();
    }
  });

  it('backs off, doubling, while a thread dies before it is ready, and the queued call waits for one that is', async () => {
    const starts: number[] = [];
    // The first three threads die at start-up (a module that cannot load); the fourth serves.
    const start = () => {
      starts.push(Date.now());
      const dies = starts.length <= 3;
      return new Worker(
        dies
          ? 'throw new Error("cannot load")'
          : `const { parentPort } = require('worker_threads'); parentPort.postMessage({ ready: true }); parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, ok: true, output: '"served"' }));`,
        { eval: true },
      );
    };
    const host = new SandboxHost(undefined, 1000, start);
    try {
      expect(await host.call({ kind: 'run', version: 'v', code: 'function handler() {}', input: '{}' })).toBe('"served"');
      const gaps = starts.slice(1).map((at, i) => at - starts[i]);
      expect(gaps).toHaveLength(3);
      [100, 200, 400].forEach((backoff, i) => expect(gaps[i]).toBeGreaterThanOrEqual(backoff));
    } finally {
      await host.close();
    }
  });

  it('reports a syntax error with its line, and code without a handler', async () => {
    const host = new SandboxHost();
    try {
      await expect(host.call({ kind: 'check', code: 'function handler(w) {\n  return w\n  ;;)\n}' })).rejects.toMatchObject({ line: 3, message: expect.stringMatching(/^SyntaxError: /) });
      await expect(host.call({ kind: 'check', code: 'const x = 1;' })).rejects.toThrow('the code must define function handler(webhook)');
    } finally {
      await host.close();
    }
  });

  it('runs each call in the state its code left (a pure handler is the contract) and keeps versions apart', async () => {
    const transformations = new Transformations();
    try {
      const counter = 'let calls = 0; function handler(w) { calls++; w.payload = calls; return w; }';
      const first = await transformations.run(counter, input);
      const second = await transformations.run(counter, input);
      expect([first, second]).toEqual([expect.objectContaining({ kind: 'send', body: '1' }), expect.objectContaining({ kind: 'send', body: '2' })]);
      expect(await transformations.run('function handler(w) { w.payload = typeof calls; return w; }', input)).toMatchObject({ body: '"undefined"' });
    } finally {
      await transformations.close();
    }
  });
});
