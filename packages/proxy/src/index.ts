// @raftplane/proxy: the per-host service proxy, ClusterIP and NodePort to ready endpoints (issue 8).
export { ServiceProxy, serviceProxyDefaults, type ServiceProxyOptions } from './service-proxy.js';
export { ServicePortBalancer, affinityClientsMax } from './balancer.js';
export { frontendsOf, readyBackends, backendKey, listenKey, type Backend, type Frontend } from './frontends.js';
export { ProxyError, ProxyErrorCode, isProxyError, invalidOption } from './errors.js';
export { silentLogger, type ProxyLogger } from './logger.js';
