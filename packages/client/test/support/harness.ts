// One fake cluster and one HTTP client on it, stopped together: every test stops what it starts.

import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/index.js';
import { RecordingClock, sequenceRandom } from './clocks.js';
import { FakeCluster } from './fake-apiserver.js';

export interface Harness {
  readonly cluster: FakeCluster;
  readonly client: HttpClient;
  readonly clock: RecordingClock;
  readonly controller: AbortController;
  /** Another client on the same cluster, stopped with the harness. */
  newClient(options?: Partial<HttpClientOptions>): HttpClient;
  stop(): Promise<void>;
}

export async function startHarness(mastersCount: number, options: { token?: string; client?: Partial<HttpClientOptions> } = {}): Promise<Harness> {
  const cluster = await FakeCluster.start(mastersCount, { token: options.token });
  const controller = new AbortController();
  const clock = new RecordingClock();
  const clients: HttpClient[] = [];
  const newClient = (extra: Partial<HttpClientOptions> = {}): HttpClient => {
    const client = createHttpClient({
      endpoints: cluster.urls(),
      signal: controller.signal,
      random: sequenceRandom([0.5]),
      clock,
      retry: { attemptsMax: 5, delayMsMin: 10, delayMsMax: 1_000 },
      // The RecordingClock fires every timer at once, which would make pings a busy loop that
      // breaks any watch whose pong is a turn late; liveness has its own test on a ManualClock.
      watchPingIntervalMs: 0,
      token: options.token,
      ...options.client,
      ...extra,
    });
    clients.push(client);
    return client;
  };
  const client = newClient();
  return {
    cluster,
    client,
    clock,
    controller,
    newClient,
    async stop() {
      controller.abort();
      await Promise.all(clients.map((c) => c.closed));
      await cluster.stop();
    },
  };
}
