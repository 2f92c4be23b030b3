// The Transport seam: the same typed client and informer run over a transport with no HTTP at all
// (requests call the handlers, watches subscribe to the store), as they will inside a master.

import { hasStatusReason, resourceByName, type Pod } from '@raftplane/api';
import { describe, expect, it } from 'vitest';
import { createClient, createInformer, isTombstone } from '../src/index.js';
import { RecordingClock, sequenceRandom, until } from './support/clocks.js';
import { FakeStore } from './support/fake-store.js';
import { InProcessTransport } from './support/in-process-transport.js';
import { pod } from './support/objects.js';

const pods = resourceByName('', 'pods')!;

describe('an in-process transport', () => {
  it('serves the typed calls, with StatusErrors from the handlers', async () => {
    const store = new FakeStore();
    const client = createClient(new InProcessTransport(store), { random: sequenceRandom([0.5]) });
    const created = await client.resource('pods', 'default').create({ ...pod(''), metadata: { namespace: 'default', generateName: 'web-' } });
    expect(created.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    await client.bind(created, 'node-1');
    const bound = await client.resource('pods', 'default').get(created.metadata.name!);
    expect(bound.spec?.nodeName).toBe('node-1');
    const missing = await client.resource('pods', 'default').get('nope').catch((e: unknown) => e);
    expect(hasStatusReason(missing, 'NotFound')).toBe(true);
    expect(store.count('pods')).toBe(1);
  });

  it('feeds an informer: sync, events, a resume from the last resourceVersion and a relist on 410', async () => {
    const store = new FakeStore();
    const transport = new InProcessTransport(store);
    store.create(pods, pod('a'));
    const informer = createInformer(createClient(transport), 'pods', { namespace: 'default', clock: new RecordingClock(), random: sequenceRandom([0.5]) });
    const log: string[] = [];
    informer.addHandler({
      onAdd: (p: Pod) => log.push(`add ${p.metadata.name}`),
      onUpdate: (_old: Pod, p: Pod) => log.push(`update ${p.metadata.name}`),
      onDelete: (p) => log.push(isTombstone(p) ? `tombstone ${p.key}` : `delete ${p.metadata.name}`),
    });
    const controller = new AbortController();
    const done = informer.run(controller.signal);
    await informer.waitForSync(controller.signal);
    await until(() => transport.openWatches.size === 1, 'the watch');
    store.create(pods, pod('b'));
    await until(() => log.length === 2, 'the add of b');
    transport.endWatches();
    store.modify(pods, 'default', 'b', (p) => (p.metadata.labels = { v: '2' }));
    await until(() => log.length === 3, 'the missed update');
    expect(informer.stats()).toMatchObject({ relists: 0, resumes: 1 });
    transport.endWatches();
    store.delete(pods, 'default', 'a');
    store.compact();
    await until(() => log.length === 4, 'the relist');
    expect(log).toEqual(['add a', 'add b', 'update b', 'tombstone default/a']);
    expect(informer.stats()).toMatchObject({ relists: 1 });
    controller.abort();
    await done;
    expect(transport.openWatches.size).toBe(0);
  });
});
