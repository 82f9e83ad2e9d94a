export { isForbiddenAddress } from './addresses';
export {
  assertSendable,
  checkTarget,
  ForbiddenTarget,
  guardedAgents,
  guardedLookup,
  systemResolver,
  type OutboundPolicy,
  type Resolver,
} from './guard';
