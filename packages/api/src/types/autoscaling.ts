// autoscaling/v1 Scale: the `scale` subresource of Deployments, ReplicaSets and StatefulSets.

import type { ObjectMeta } from './meta.js';

export interface Scale {
  apiVersion?: 'autoscaling/v1';
  kind?: 'Scale';
  metadata: ObjectMeta;
  spec?: { replicas?: number };
  /** `selector` is the label selector in its string form, `app=web`. */
  status?: { replicas: number; selector?: string };
}
