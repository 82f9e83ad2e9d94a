import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { HttpError } from '../errors';
import { isForbiddenAddress } from './addresses';

/** Resolves a host name to every address it has (node's dns.lookup with `all: true`, or a test's stand-in). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

/**
 * The private-network rule for every request Herald sends to an address a user chose. `allowPrivate`
 * (OUTBOUND_ALLOW_PRIVATE=true) lifts the address rule for tests and private deployments; nothing else does.
 */
export interface OutboundPolicy {
  allowPrivate: boolean;
  /** Where names are resolved; tests stub it to check names that resolve to forbidden addresses. */
  resolve?: Resolver;
}

/** A 400 `forbidden_target`: the URL is refused at registration, before anything is stored. */
export class ForbiddenTarget extends HttpError {
  constructor(message: string) {
    super(400, 'forbidden_target', message);
  }
}

/**
 * Checks a URL a user gave (a webhook, a push endpoint) before it is stored: its scheme is one of `schemes`,
 * it has no credentials, and its host is, or resolves only to, public addresses. The address is checked again at
 * every send by `guardedLookup`, since DNS can change between now and then.
 */
export async function checkTarget(raw: string, policy: OutboundPolicy, schemes: readonly string[] = ['https:']): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ForbiddenTarget('The URL is not valid.');
  }
  if (!schemes.includes(url.protocol)) throw new ForbiddenTarget(`The URL must use ${schemes.map((s) => s.slice(0, -1)).join(' or ')}.`);
  if (url.username || url.password) throw new ForbiddenTarget('The URL must not carry a user name or password.');
  if (policy.allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await (policy.resolve ?? systemResolver)(host)).map((a) => a.address);
    } catch {
      throw new ForbiddenTarget(`The host ${host} could not be resolved.`);
    }
  }
  if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
    throw new ForbiddenTarget(`The host ${host} is, or resolves to, a private, loopback or reserved address.`);
  }
  return url;
}

/**
 * A `lookup` for sockets (http.Agent, https.Agent, net.connect) that resolves the name and refuses the connection
 * when any address is forbidden, so the address checked is the address connected to: no window for DNS to change
 * in between (rebinding). Literal IP hosts go through the same check (node calls lookup for them too when a
 * custom lookup is set, except when the host is already an IP: see `guardedAgents`).
 */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  const resolve = policy.resolve ?? systemResolver;
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    resolve(hostname).then(
      (addrs) => {
        const bad = policy.allowPrivate ? undefined : addrs.find((a) => isForbiddenAddress(a.address));
        if (addrs.length === 0 || bad) {
          const err = Object.assign(new Error(`Refused to connect to ${hostname}: ${bad ? bad.address : 'no address'} is not a public address`), {
            code: 'EFORBIDDENTARGET',
          });
          callback(err);
          return;
        }
        if (options?.all) callback(null, addrs);
        else callback(null, addrs[0].address, addrs[0].family);
      },
      (err) => callback(err),
    );
  }) as LookupFunction;
}

/**
 * Agents for outbound requests under the policy. Node skips `lookup` when the host is a literal IP, so a
 * literal forbidden IP is refused by `checkTarget` at registration and again by `assertSendable` before each
 * request; names go through `guardedLookup` at connect time.
 */
export function guardedAgents(policy: OutboundPolicy) {
  const lookup = guardedLookup(policy);
  return {
    http: new http.Agent({ keepAlive: true, lookup }),
    https: new https.Agent({ keepAlive: true, lookup }),
  };
}

/** Before each send: a literal IP host must be public (names are checked when the socket connects). */
export function assertSendable(url: URL, policy: OutboundPolicy): void {
  if (policy.allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isForbiddenAddress(host)) {
    throw Object.assign(new Error(`Refused to send to ${host}: not a public address`), { code: 'EFORBIDDENTARGET' });
  }
}
