import { createServer, type Server } from 'node:http';
import { WebhookHttpClient, type HostResolver } from '../../src/delivery/http-client';
import { UrlGuard, UrlRefusedError } from '../../src/delivery/url-guard';

const strict = new UrlGuard({ allowHttp: false, allowedCidrs: [] });
const refusal = (guard: UrlGuard, url: string): string | undefined => {
  try {
    guard.checkUrl(url);
    return undefined;
  } catch (err) {
    if (err instanceof UrlRefusedError) return err.reason;
    throw err;
  }
};

describe('SSRF guard: address forms refused', () => {
  it.each([
    // loopback and its numeric tricks (the URL parser normalises them; the guard must see through)
    ['loopback', 'https://127.0.0.1/'],
    ['loopback, other host in 127/8', 'https://127.255.1.2/'],
    ['short form', 'https://127.1/'],
    ['short form with three parts', 'https://127.0.1/'],
    ['decimal', 'https://2130706433/'],
    ['octal', 'https://0177.0.0.1/'],
    ['octal, one number', 'https://017700000001/'],
    ['hex', 'https://0x7f000001/'],
    ['hex dotted', 'https://0x7f.0x0.0x0.0x1/'],
    ['mixed hex short form', 'https://0x7f.1/'],
    ['trailing dot', 'https://127.0.0.1./'],
    ['fullwidth digits', 'https://１２７.０.０.１/'],
    ['enclosed alphanumerics', 'https://①②⑦.⓪.⓪.①/'],
    ['localhost', 'https://localhost/'],
    ['localhost, upper case', 'https://LOCALHOST:8443/'],
    ['localhost with root dot', 'https://localhost./'],
    ['a .localhost name', 'https://api.localhost/'],
    // "this network", private, CGNAT, link-local, metadata, multicast, broadcast
    ['0.0.0.0', 'https://0.0.0.0/'],
    ['0 (short for 0.0.0.0)', 'https://0/'],
    ['10/8', 'https://10.1.2.3/'],
    ['172.16/12, low end', 'https://172.16.0.1/'],
    ['172.16/12, high end', 'https://172.31.255.254/'],
    ['192.168/16', 'https://192.168.1.1/'],
    ['CGNAT 100.64/10', 'https://100.64.0.1/'],
    ['Alibaba metadata in CGNAT', 'https://100.100.100.200/'],
    ['link-local', 'https://169.254.1.1/'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data/'],
    ['cloud metadata as decimal', 'https://2852039166/'],
    ['Oracle metadata', 'https://192.0.0.192/'],
    ['multicast', 'https://224.0.0.1/'],
    ['multicast, high end', 'https://239.255.255.250/'],
    ['reserved 240/4', 'https://240.0.0.1/'],
    ['broadcast', 'https://255.255.255.255/'],
    ['benchmarking 198.18/15', 'https://198.18.0.1/'],
    // IPv6
    ['IPv6 unspecified', 'https://[::]/'],
    ['IPv6 loopback', 'https://[::1]/'],
    ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]/'],
    ['IPv6 ULA', 'https://[fc00::1]/'],
    ['IPv6 ULA fd00::/8', 'https://[fd12:3456:789a::1]/'],
    ['AWS metadata over IPv6', 'https://[fd00:ec2::254]/'],
    ['IPv6 link-local', 'https://[fe80::1]/'],
    ['IPv6 site-local', 'https://[fec0::1]/'],
    ['IPv6 multicast', 'https://[ff02::1]/'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/'],
    ['IPv4-mapped loopback, hex', 'https://[::ffff:7f00:1]/'],
    ['IPv4-mapped metadata', 'https://[::ffff:169.254.169.254]/'],
    ['IPv4-mapped private', 'https://[::ffff:10.0.0.1]/'],
    ['IPv4-compatible loopback', 'https://[::127.0.0.1]/'],
    ['IPv4-translated loopback', 'https://[::ffff:0:127.0.0.1]/'],
    ['NAT64', 'https://[64:ff9b::a9fe:a9fe]/'],
    ['6to4 around loopback', 'https://[2002:7f00:1::]/'],
    ['6to4 around metadata', 'https://[2002:a9fe:a9fe::1]/'],
    ['Teredo', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/'],
  ])('%s: %s', (_what, url) => {
    expect(refusal(strict, url)).toMatch(/private, loopback, link-local or reserved|loopback address/);
  });
});

describe('SSRF guard: URL rules', () => {
  it.each([
    ['plain http', 'http://93.184.215.14/', /only https/],
    ['file scheme', 'file:///etc/passwd', /only https/],
    ['ftp scheme', 'ftp://example.com/', /only https/],
    ['gopher scheme', 'gopher://example.com/', /only https/],
    ['user and password', 'https://user:pass@example.com/', /credentials/],
    ['user only', 'https://user@example.com/', /credentials/],
    ['not a URL', 'example.com/hook', /valid absolute URL/],
    ['IPv6 zone id', 'https://[fe80::1%25eth0]/', /valid absolute URL/],
    ['out-of-range IPv4', 'https://256.1.1.1/', /valid absolute URL/],
  ])('%s: %s', (_what, url, reason) => {
    expect(refusal(strict, url)).toMatch(reason);
  });

  it.each([
    'https://example.com/hook',
    'https://hooks.example.com:8443/a/b?c=d',
    'https://8.8.8.8/',
    'https://1.1.1.1/',
    'https://172.32.0.1/', // just above 172.16/12
    'https://172.15.255.255/', // just below
    'https://100.128.0.1/', // just above CGNAT
    'https://192.169.0.1/',
    'https://11.0.0.1/',
    'https://[2606:4700:4700::1111]/',
    'https://[::ffff:8.8.8.8]/', // mapped public address
    'https://[2002:808:808::1]/', // 6to4 around a public address
  ])('lets a public address through: %s', (url) => {
    expect(refusal(strict, url)).toBeUndefined();
  });

  it('lets http through only when allowed', () => {
    const http = new UrlGuard({ allowHttp: true, allowedCidrs: [] });
    expect(refusal(http, 'http://example.com/')).toBeUndefined();
    expect(refusal(http, 'ftp://example.com/')).toMatch(/only http and https/);
    expect(refusal(http, 'http://127.0.0.1/')).toMatch(/loopback/);
  });
});

describe('SSRF guard: allow-list', () => {
  const local = new UrlGuard({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'] });

  it('exempts exactly the listed CIDRs, in every form of the address', () => {
    expect(refusal(local, 'http://127.0.0.1:8080/hook')).toBeUndefined();
    expect(refusal(local, 'http://127.1/')).toBeUndefined();
    expect(refusal(local, 'http://[::ffff:127.0.0.1]/')).toBeUndefined();
    expect(refusal(local, 'http://10.0.0.1/')).toMatch(/private/);
    expect(refusal(local, 'http://[::1]/')).toMatch(/private/);
    expect(refusal(local, 'http://169.254.169.254/')).toMatch(/private/);
  });

  it('lets localhost through only when both its IPv4 and IPv6 loopback are allowed', () => {
    expect(refusal(local, 'http://localhost/')).toMatch(/loopback/);
    const both = new UrlGuard({ allowHttp: true, allowedCidrs: ['127.0.0.0/8', '::1/128'] });
    expect(refusal(both, 'http://localhost/')).toBeUndefined();
  });

  it('checks resolved addresses, not just the literal host', () => {
    expect(local.addressRefusal('127.0.0.1')).toBeUndefined();
    expect(local.addressRefusal('192.168.0.10')).toMatch(/private/);
    expect(strict.addressRefusal('::ffff:127.0.0.1')).toMatch(/private/);
    expect(strict.addressRefusal('93.184.215.14')).toBeUndefined();
    expect(strict.addressRefusal('not-an-ip')).toMatch(/not an IP address/);
  });
});

describe('SSRF guard: resolution at create time', () => {
  const resolvesTo = (...addresses: string[]) => async () => addresses.map((address) => ({ address }));

  it('refuses a name that resolves to a refused address, even when others are public', async () => {
    await expect(strict.checkUrlResolved('https://rebind.example/', resolvesTo('8.8.8.8', '10.0.0.7'))).rejects.toThrow(
      /rebind\.example resolves to a refused address: 10\.0\.0\.7/,
    );
  });

  it('lets a name through that resolves to public addresses only, or does not resolve yet', async () => {
    await expect(strict.checkUrlResolved('https://ok.example/', resolvesTo('8.8.8.8', '2606:4700::1'))).resolves.toBeInstanceOf(URL);
    const fails = async () => {
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    await expect(strict.checkUrlResolved('https://not-yet.example/', fails)).resolves.toBeInstanceOf(URL);
  });

  it('refuses localhost names before any lookup', async () => {
    await expect(strict.checkUrlResolved('https://localhost/')).rejects.toThrow(UrlRefusedError);
  });
});

describe('SSRF guard at delivery time, after DNS resolution', () => {
  // A name the literal checks cannot recognise, resolved (by an injected resolver: no DNS query
  // leaves this machine) to the loopback address a real receiver listens on.
  const toLoopback: HostResolver = (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
  let server: Server;
  let port = 0;
  let received = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      received++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = async (allowedCidrs: string[]) => {
    const http = new WebhookHttpClient({ allowHttp: true, allowedCidrs, userAgent: 'test', resolve: toLoopback });
    try {
      return await http.post(`http://receiver.rebind.test:${port}/hook`, {}, '{}', 2000);
    } finally {
      await http.close();
    }
  };

  it('refuses to connect when the host name resolves to a refused address', async () => {
    const guard = new UrlGuard({ allowHttp: true, allowedCidrs: [] });
    expect(refusal(guard, `http://receiver.rebind.test:${port}/`)).toBeUndefined(); // nothing to see before resolution
    expect(await post([])).toMatchObject({ kind: 'error', errorClass: 'url_refused', message: expect.stringContaining('127.0.0.1') });
    expect(received).toBe(0);
  });

  it('connects to that same address once it is allowed (the resolved address is the one used)', async () => {
    expect(await post(['127.0.0.0/8'])).toMatchObject({ kind: 'response', statusCode: 200, body: 'ok' });
    expect(received).toBe(1);
  });
});

describe('SSRF guard without DNS (WEBHOOK_RESOLVE_HOSTNAMES=false) and with a destination allowlist', () => {
  // Spies on the module objects the guard and the HTTP client call through: no lookup may happen.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const dns = require('node:dns') as typeof import('node:dns');
  const dnsPromises = require('node:dns/promises') as typeof import('node:dns/promises');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const lookups = [jest.spyOn(dns, 'lookup'), jest.spyOn(dnsPromises, 'lookup')];
  afterAll(() => lookups.forEach((spy) => spy.mockRestore()));
  const options = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'], resolveHostnames: false, destinationCidrs: ['127.0.0.0/8'] };
  const guard = new UrlGuard(options);

  it('refuses any host name but localhost at create time, without resolving it', async () => {
    let resolved = 0;
    const resolver = async () => {
      resolved++;
      return [{ address: '93.184.216.34' }];
    };
    await expect(guard.checkUrlResolved('https://made-up-name.example/hook', resolver)).rejects.toMatchObject({
      reason: 'host names are not resolved by this service: use an IP address',
    });
    await expect(guard.checkUrlResolved('http://localhost:9/hook', resolver)).resolves.toBeInstanceOf(URL);
    expect(resolved).toBe(0);
  });

  it('lets only the listed destinations through, public or not', () => {
    expect(guard.addressRefusal('127.0.0.1')).toBeUndefined();
    expect(guard.addressRefusal('93.184.216.34')).toBe('93.184.216.34 is not among the destinations this service delivers to');
    expect(refusal(guard, 'https://8.8.8.8/')).toBe('8.8.8.8 is not among the destinations this service delivers to');
    expect(refusal(guard, 'https://[2606:4700::1111]/')).toMatch(/not among the destinations/);
  });

  it('delivers to localhost and refuses invented names at delivery time, with no DNS query', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const http = new WebhookHttpClient({ ...options, userAgent: 'test' });
    lookups.forEach((spy) => spy.mockClear()); // listen() and earlier tests looked names up
    try {
      expect(await http.post(`http://localhost:${port}/hook`, {}, '{}', 2000)).toMatchObject({ kind: 'response', statusCode: 200 });
      expect(await http.post('http://made-up-name.example:9/hook', {}, '{}', 2000)).toMatchObject({ kind: 'error', errorClass: 'url_refused' });
      expect(await http.post('http://9.9.9.9:9/hook', {}, '{}', 2000)).toMatchObject({ kind: 'error', errorClass: 'url_refused' });
    } finally {
      await http.close();
      server.close();
    }
    for (const spy of lookups) expect(spy).not.toHaveBeenCalled();
  });
});
