// @raftplane/apiserver: Kubernetes' REST API over the replicated KV store.
export { rangeRequest, type ApiBackend } from './backend.js';
export { ApiHandler, notFoundPath, presentationOf, type ApiHandlerOptions, type ApiRequest, type ApiResult, type Presentation } from './api-handler.js';
export { ObjectStore, newest, type ListOptions, type ListResult, type ReadOptions, type UpdateDecision, type UpdateResult } from './object-store.js';
export { startObjectWatch, translateEvent, type ObjectWatch, type ObjectWatchOptions, type WatchEvent, type WatchEventType, type WatchOutput } from './object-watch.js';
export { KubeApiServer, FORWARDED_BY_HEADER, LEADER_HEADER, type KubeApiLimits, type KubeApiServerOptions, type LeaderView } from './http-server.js';
export { authorize, isAllowed, defaultAuthorizationPolicy, type AuthorizationPolicy, type UserInfo } from './authz.js';
export { anonymousAdmin, loadTokenFile, parseTokenFile, tokenAuthenticator, TokenFileError, type Authenticator } from './tokens.js';
export { InflightLimiter, type InflightLimits } from './inflight.js';
export { runLeaderDuties, ensureSystemNamespaces, systemNamespaces, type LeaderDutiesOptions } from './leader-duties.js';
export { readBody, type BodyTooLarge } from './http-body.js';
export { encodeContinueToken, decodeContinueToken, type ContinueToken } from './continue-token.js';
export { objectKey, collectionPrefix } from './keys.js';
export { silentLogger, type ApiLogger } from './logger.js';
export { WatchCache, WatchCaches, watchCacheDefaults, type WatchCacheSettings, type CacheWatchOptions } from './watch-cache.js';
export { GracefulDeletionReaper } from './graceful-reaper.js';
export {
  ipv4ToNumber,
  numberToIpv4,
  parseNodePortRange,
  parseServiceIPRange,
  parseServiceRanges,
  serviceRangeDefaults,
  type NodePortRange,
  type ServiceIPRange,
  type ServiceRanges,
} from './service-ranges.js';
export { ServiceAllocator, keepAllocatedValues, nodePortClaimPrefix, serviceIPClaimPrefix, type PlannedWrite, type WritePlanner } from './service-allocation.js';
