#!/usr/bin/env node
// Starts one master process: `raftplane-master --config <cluster.json> --id <n>`. Exits 0 after a
// clean SIGTERM/SIGINT shutdown, 1 when it cannot start or cannot go on.

import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadClusterConfig, masterById } from './config.js';
import { MasterError, MasterErrorCode } from './errors.js';
import { createEtcdGateway, etcdGatewayDefaults } from './etcd/gateway.js';
import { createApiServer } from './http.js';
import { createDualListener } from './dual-listener.js';
import { createKubeApi } from './kube-api.js';
import { runLeaderComponents } from './leader-components.js';
import { loadServingCert } from './serving-cert.js';
import { PLANT_STALE_READS_ENV, createKvService } from './kv-service.js';
import { createLogger, type LogPosition } from './logger.js';
import { Master } from './master.js';

const usage = `usage: raftplane master --config <cluster-config.json> --id <master id> [--log-level info]
       (the same as raftplane-master, this package's own bin)

  --config     the cluster config (see cluster-configs/; every setting in README.md, "Configuration") (required)
  --id         which of its masters this process is (required)
  --log-level  trace | debug | info | warn | error (default info)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      id: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  if (values.config === undefined) throw new MasterError(MasterErrorCode.InvalidArgument, `--config is required\n${usage}`);
  const id = Number(values.id);
  if (!Number.isSafeInteger(id) || id < 1) throw new MasterError(MasterErrorCode.InvalidArgument, `--id must be a positive integer, got ${JSON.stringify(values.id)}\n${usage}`);
  const config = await loadClusterConfig(values.config);
  const self = masterById(config, id);
  const position: LogPosition = { source: null };
  const logger = createLogger({ master: id, cluster: config.name }, values['log-level'], position);

  let exiting = false;
  const master = await Master.start({ config, id, logger }, (error) => {
    // An assertion or a storage failure: the only safe answer is to stop and restart from disk.
    logger.fatal({ err: error }, 'exiting after a fatal error');
    process.exit(1);
  });
  position.source = () => master.logPosition();
  const plantStaleFollowerReads = process.env[PLANT_STALE_READS_ENV] === '1';
  if (plantStaleFollowerReads) logger.warn({ env: PLANT_STALE_READS_ENV }, 'TESTING: a planted bug is on: as a follower, this master serves linearizable reads without ReadIndex (stale reads)');
  const service = createKvService(master, { plantStaleFollowerReads });
  const gateway = createEtcdGateway({
    ...etcdGatewayDefaults,
    requestBytesMax: config.api.bodyBytesMax,
    txnOpsMax: config.kv.txnOpsMax,
    watchBufferBytesMax: config.api.watchBufferBytesMax,
    service,
    logger,
  });
  const { server: kubeApi, inProcess } = await createKubeApi({ master, service, logger });
  const components = new AbortController();
  const componentsDone = runLeaderComponents({ master, transport: inProcess, settings: config.components, logger, signal: components.signal });
  const http = createApiServer({ master, logger, gateway, kubeApi });
  const tls = await loadServingCert({ certFile: config.apiserver.tlsCertFile, keyFile: config.apiserver.tlsKeyFile, dataDir: self.dataDir, api: self.api, now: new Date() });
  logger.info({ certificate: tls.source }, 'the API port serves plain HTTP and TLS');
  const server = createDualListener(http, tls);
  server.listen(self.api.port, self.api.host);
  await once(server, 'listening');
  logger.info({ api: `${self.api.host}:${self.api.port}`, peer: `${self.peer.host}:${self.peer.port}` }, 'serving');

  const shutdown = async (signal: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutting down');
    components.abort();
    await componentsDone;
    server.close();
    kubeApi.close();
    await gateway.close();
    http.closeAllConnections();
    await master.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // Refusing to start: say why on stderr, in one line an operator can act on.
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  process.stderr.write(`raftplane-master: ${code !== undefined ? `${code}: ` : ''}${message}\n`);
  process.exit(1);
});
