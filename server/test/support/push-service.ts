import { createECDH, createHmac, createDecipheriv, createPublicKey, randomBytes, verify, type ECDH } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A push service on loopback, as Chrome's or Mozilla's would behave towards Herald: HTTPS with a certificate
 * made for the test, the VAPID `Authorization` checked (RFC 8292), the aes128gcm body decrypted with the
 * subscription's private key (RFC 8291), and an answer the test scripts. Nothing leaves the machine.
 */

/** A browser's side of a subscription: the key pair and auth secret it made, and the JSON it hands the page. */
export interface FakeBrowser {
  endpoint: string;
  ecdh: ECDH;
  auth: Buffer;
  json: { endpoint: string; keys: { p256dh: string; auth: string }; expirationTime: number | null };
}

export interface ReceivedPush {
  endpoint: string;
  /** The decrypted payload, parsed. */
  payload: unknown;
  ttl?: string;
  urgency?: string;
  topic?: string;
  /** The VAPID claims after their signature checked out. */
  claims: { aud: string; exp: number; sub: string };
  /** What the test's script made the service answer. */
  status: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Holds the answer this long (a slow push service: a job still running when its process is told to stop). */
  delayMs?: number;
}

export interface PushService {
  origin: string;
  /** Trusts the test certificate; otherwise exactly like a send agent (keep-alive, loopback allowed by policy). */
  ca: string;
  received: ReceivedPush[];
  /** Refusals (a bad VAPID header, an undecryptable body): a test that expects none asserts this is empty. */
  rejected: string[];
  subscribe(): FakeBrowser;
  /** Answers for one endpoint (consumed in order; 201 when none is left), or for every endpoint with '*'. */
  script(endpoint: string, ...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

/** A certificate for 127.0.0.1 and localhost, valid a day; node cannot write X.509, openssl can. */
function certificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-push-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8291 §3.4 and RFC 8188 §2: one record, as every Web Push payload is. */
export function decryptAes128gcm(body: Buffer, browser: Pick<FakeBrowser, 'ecdh' | 'auth'>): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  const uaPublic = browser.ecdh.getPublicKey();
  const ecdhSecret = browser.ecdh.computeSecret(asPublic);
  const prkKey = hmac(browser.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('the last record must end with the 0x02 delimiter');
  return padded.subarray(0, end);
}

/** RFC 8292: `vapid t=<JWT ES256>, k=<public key>`; the key must be the one the API published. */
export function checkVapid(header: string | undefined, publicKey: string, origin: string): ReceivedPush['claims'] {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header ?? '');
  if (!m) throw new Error(`Authorization is not a VAPID header: ${header}`);
  const [, jwt, k] = m;
  if (k !== publicKey) throw new Error('signed with another key than the published one');
  const [h, p, s] = jwt.split('.');
  const raw = Buffer.from(k, 'base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  if (JSON.parse(Buffer.from(h, 'base64url').toString()).alg !== 'ES256') throw new Error('alg is not ES256');
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) {
    throw new Error('bad JWT signature');
  }
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (claims.aud !== origin) throw new Error(`aud ${claims.aud} is not ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 86_400)) throw new Error(`exp ${claims.exp} is not within 24 h`);
  return claims;
}

export async function startPushService(opts: { vapidPublicKey: () => Promise<string> | string }): Promise<PushService> {
  const { key, cert } = certificate();
  const browsers = new Map<string, FakeBrowser>();
  const scripts = new Map<string, ScriptedAnswer[]>();
  const received: ReceivedPush[] = [];
  const rejected: string[] = [];
  let origin = '';

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const endpoint = `${origin}${req.url}`;
        const browser = browsers.get(endpoint);
        try {
          if (req.method !== 'POST' || !browser) throw new Error(`no subscription at ${req.method} ${req.url}`);
          if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error('Content-Encoding is not aes128gcm');
          const claims = checkVapid(req.headers.authorization, await opts.vapidPublicKey(), origin);
          const payload = JSON.parse(decryptAes128gcm(Buffer.concat(chunks), browser).toString('utf8'));
          const answer = scripts.get(endpoint)?.shift() ?? scripts.get('*')?.shift() ?? { status: 201 };
          received.push({
            endpoint,
            payload,
            ttl: req.headers.ttl as string | undefined,
            urgency: req.headers.urgency as string | undefined,
            topic: req.headers.topic as string | undefined,
            claims,
            status: answer.status,
          });
          if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
          res.writeHead(answer.status, answer.headers).end();
        } catch (err) {
          rejected.push((err as Error).message);
          res.writeHead(400).end((err as Error).message);
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    ca: cert,
    received,
    rejected,
    subscribe() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${origin}/push/${randomBytes(12).toString('base64url')}`;
      const browser: FakeBrowser = {
        endpoint,
        ecdh,
        auth,
        json: { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }, expirationTime: null },
      };
      browsers.set(endpoint, browser);
      return browser;
    },
    script(endpoint, ...answers) {
      scripts.set(endpoint, [...(scripts.get(endpoint) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
