import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkTarget, guardedAgents, isForbiddenAddress, type Resolver } from '../../outbound';

/**
 * The private-network rule for requests to user-chosen URLs. Nothing here leaves the machine: names are
 * resolved by a stub, and the only connections made go to a server on loopback.
 */

const stub = (table: Record<string, string[]>): Resolver => async (host) => {
  const addrs = table[host];
  if (!addrs) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('forbidden addresses', () => {
  test.each([
    '127.0.0.1', '127.255.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.1',
    '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '::127.0.0.1',
    'not-an-ip',
  ])('%s is refused', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  test.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2002:808:808::'])(
    '%s is public',
    (ip) => {
      expect(isForbiddenAddress(ip)).toBe(false);
    },
  );
});

describe('checkTarget at registration', () => {
  const resolve = stub({
    'hooks.example.com': ['93.184.215.14'],
    'sneaky.example.com': ['93.184.215.14', '127.0.0.1'],
    'metadata.example.com': ['169.254.169.254'],
    'v6loop.example.com': ['::1'],
  });
  const policy = { allowPrivate: false, resolve };

  test('a public https URL passes', async () => {
    expect((await checkTarget('https://hooks.example.com/herald', policy)).host).toBe('hooks.example.com');
  });

  test.each([
    ['https://127.0.0.1/hook', 'loopback literal'],
    ['https://10.0.0.5/hook', 'private literal'],
    ['https://169.254.169.254/latest/meta-data', 'metadata literal'],
    ['https://[::1]/hook', 'IPv6 loopback literal'],
    ['https://[::ffff:127.0.0.1]/hook', 'IPv4-mapped loopback'],
    ['https://sneaky.example.com/hook', 'a name with one private address among public ones'],
    ['https://metadata.example.com/', 'a name resolving to the metadata address'],
    ['https://v6loop.example.com/', 'a name resolving to ::1'],
    ['https://nowhere.example.com/', 'a name that does not resolve'],
    ['http://hooks.example.com/', 'plain http where https is required'],
    ['https://user:pw@hooks.example.com/', 'credentials in the URL'],
    ['not a url', 'garbage'],
  ])('%s is refused (%s) with forbidden_target', async (url) => {
    await expect(checkTarget(url, policy)).rejects.toMatchObject({ status: 400, code: 'forbidden_target' });
  });

  test('OUTBOUND_ALLOW_PRIVATE lifts the address rule, not the scheme rule', async () => {
    await expect(checkTarget('https://127.0.0.1:8443/push', { allowPrivate: true })).resolves.toBeInstanceOf(URL);
    await expect(checkTarget('ftp://127.0.0.1/', { allowPrivate: true })).rejects.toMatchObject({ code: 'forbidden_target' });
  });
});

describe('guarded sockets at send time', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const get = (agent: http.Agent, host: string) =>
    new Promise<number>((resolve, reject) => {
      http.get({ host, port, path: '/', agent }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });

  test('a name that resolves to loopback at send time is refused before any connection', async () => {
    // Registration saw a public address; DNS now answers loopback (rebinding): the socket never opens.
    const agents = guardedAgents({ allowPrivate: false, resolve: stub({ 'rebind.example.com': ['127.0.0.1'] }) });
    const before = hits;
    await expect(get(agents.http, 'rebind.example.com')).rejects.toMatchObject({ code: 'EFORBIDDENTARGET' });
    expect(hits).toBe(before);
    agents.http.destroy();
  });

  test('with OUTBOUND_ALLOW_PRIVATE the same name reaches the loopback server', async () => {
    const agents = guardedAgents({ allowPrivate: true, resolve: stub({ 'local.test': ['127.0.0.1'] }) });
    expect(await get(agents.http, 'local.test')).toBe(200);
    agents.http.destroy();
  });
});
