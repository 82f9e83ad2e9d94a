import type { Renderer } from '../../web/render';
import type { Protocol } from '../hub';
import { BELL_PATH, bellProtocol } from './bell';
import { JSON_PATH, jsonProtocol } from './json';
import type { WireProtocol } from './protocol';

export type { ApplicationAudience, NewNotificationSender, Positioned, SendAudience, WireProtocol } from './protocol';

/** Which endpoint speaks which protocol (the ws adapter routes upgrades with it). */
export const PROTOCOL_PATHS: Readonly<Record<string, Protocol>> = { [JSON_PATH]: 'json', [BELL_PATH]: 'bell' };

/** Every protocol by name: a connection's frames come from `protocols[c.protocol]`. */
export type Protocols = Readonly<Record<Protocol, WireProtocol>>;

export function createProtocols(renderer: Renderer): Protocols {
  return { json: jsonProtocol, bell: bellProtocol(renderer) };
}
