// The gateway's options are checked whole when it is made: each bad one is named in its own error,
// and an option it does not know is refused rather than ignored (house rule 9).

import { describe, expect, test } from 'vitest';
import { MasterError, MasterErrorCode } from '../../src/errors.js';
import { createEtcdGateway, etcdGatewayDefaults, type EtcdGatewayOptions } from '../../src/etcd/gateway.js';
import { FakeKvService } from './fake-service.js';
import { silentLogger } from './harness.js';

const good = (): EtcdGatewayOptions => ({ ...etcdGatewayDefaults, service: new FakeKvService(), logger: silentLogger });

function refusal(options: unknown): MasterError {
  try {
    createEtcdGateway(options as EtcdGatewayOptions);
  } catch (error) {
    if (error instanceof MasterError) return error;
    throw error;
  }
  throw new Error('the options were accepted');
}

describe('gateway options', () => {
  test.each([
    ['requestBytesMax', 0, /requestBytesMax: an integer >= 1024 is required, got 0/],
    ['txnOpsMax', 1.5, /txnOpsMax: an integer >= 1 is required, got 1.5/],
    ['watchBufferBytesMax', '4MiB', /watchBufferBytesMax: an integer >= 1024 is required, got 4MiB/],
    ['watchesPerStreamMax', -1, /watchesPerStreamMax: an integer >= 1/],
    ['keepAliveRequestsMax', undefined, /keepAliveRequestsMax: an integer >= 1 is required, got undefined/],
    ['heartbeatIntervalMs', 5, /heartbeatIntervalMs: an integer >= 10/],
    ['streamCloseGraceMs', Number.NaN, /streamCloseGraceMs: an integer >= 1/],
    ['service', null, /service: a KvService is required/],
    ['maxRequestBytes', 1, /maxRequestBytes: unknown option \(known: service, logger, requestBytesMax/],
  ])('%s = %s is refused by name', (name, value, message) => {
    const error = refusal({ ...good(), [name]: value });
    expect(error.code).toBe(MasterErrorCode.InvalidConfig);
    expect(error.details).toEqual({ path: name });
    expect(error.message).toMatch(message);
  });

  test("the defaults are etcd's where etcd has one, and they are accepted", async () => {
    expect(etcdGatewayDefaults.requestBytesMax).toBe(1.5 * 1024 * 1024);
    expect(etcdGatewayDefaults.txnOpsMax).toBe(128);
    await createEtcdGateway(good()).close();
  });
});
