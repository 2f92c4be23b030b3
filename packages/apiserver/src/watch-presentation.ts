// Watch events as the client asked to see them: objects, or (kubectl get -w) one-row Tables whose
// column definitions come with the first event only, as kube-apiserver sends them.

import { partialObjectMetadata, toTable, type KubeObject, type ResourceInfo } from '@raftplane/api';
import type { Presentation } from './api-handler.js';
import type { WatchEvent } from './object-watch.js';

export function watchEventPresenter(info: ResourceInfo, presentation: Presentation, now: () => number): (event: WatchEvent) => WatchEvent {
  if (presentation.as === 'object') return (event) => event;
  if (presentation.as === 'metadata') {
    return (event) => (event.type === 'ERROR' ? event : { type: event.type, object: partialObjectMetadata(event.object as KubeObject) as unknown as KubeObject });
  }
  let first = true;
  return (event) => {
    if (event.type === 'ERROR' || event.type === 'BOOKMARK') return event;
    const obj = event.object as KubeObject;
    const table = toTable([obj], info.kind, { now, wide: true, includeObject: presentation.includeObject, listMeta: { resourceVersion: obj.metadata.resourceVersion } });
    if (!first) table.columnDefinitions = [];
    first = false;
    return { type: event.type, object: table as unknown as KubeObject };
  };
}
