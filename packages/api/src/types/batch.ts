// batch/v1 Job (k8s.io/api/batch/v1/types.go): run pods to completion.

import type { PodTemplateSpec } from './core.js';
import type { LabelSelector, ObjectMeta, Time } from './meta.js';

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  selector?: LabelSelector;
  /** False (the default): the server chooses the selector and the template's labels from the uid. */
  manualSelector?: boolean;
  template?: PodTemplateSpec;
  ttlSecondsAfterFinished?: number;
  completionMode?: 'NonIndexed' | 'Indexed';
  suspend?: boolean;
}

export interface JobCondition {
  type: 'Complete' | 'Failed' | 'Suspended' | string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime?: Time;
  lastTransitionTime?: Time;
  reason?: string;
  message?: string;
}

export interface JobStatus {
  conditions?: JobCondition[];
  startTime?: Time;
  completionTime?: Time;
  active?: number;
  succeeded?: number;
  failed?: number;
}

export interface Job {
  apiVersion?: 'batch/v1';
  kind?: 'Job';
  metadata: ObjectMeta;
  spec?: JobSpec;
  status?: JobStatus;
}
