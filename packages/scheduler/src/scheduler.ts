// The scheduler component (issue 7): informers on pods, nodes and services; pending pods with this
// schedulerName go to the SchedulingQueue, bound pods and nodes to the SchedulerCache. One loop
// takes a pod, runs the pure filters and scores on the cache's nodes, assumes the pod onto the
// chosen node and binds it through `pods/binding` in the background (so the next pod is decided
// while the write commits), and records an Event for every decision. Runs under a leadership
// AbortSignal (DESIGN rule 5): aborting stops the loop, aborts in-flight writes, closes the
// informers and cancels every timer before `run` settles.

import { setMaxListeners } from 'node:events';
import { formatTime, hasStatusReason, labelSelectorFromSet, matchesLabels, type Node, type Pod, type Service } from '@raftplane/api';
import {
  createInformer,
  deletedObject,
  objectKey,
  silentLogger,
  systemClock,
  type Client,
  type ClientLogger,
  type Clock,
  type DeletedFinalStateUnknown,
  type Informer,
  type TimerHandle,
} from '@raftplane/client';
import { SchedulerCache } from './cache.js';
import { SchedulerError, SchedulerErrorCode, invalidOption } from './errors.js';
import { EventReason, podEvent, scheduledMessage, type EventType } from './events.js';
import { defaultFilters, type Filter } from './filters.js';
import { newPodContext } from './pod-context.js';
import { schedulePod, type SchedulingProfile } from './schedule-pod.js';
import { defaultScorers, type WeightedScorer } from './scores.js';
import { SchedulingQueue, type QueueCounts, type QueuedPod } from './scheduling-queue.js';

export const defaultSchedulerName = 'default-scheduler';

export interface SchedulerOptions {
  readonly client: Client;
  /** Pods whose spec.schedulerName is this are ours; also the events' source.component. */
  readonly schedulerName?: string;
  /** Uniform in [0, 1): ties between equally good nodes, event name suffixes. */
  readonly random: () => number;
  /** Monotonic time for backoff, flushes and assumed-pod expiry. Default systemClock. */
  readonly clock?: Clock;
  /** Wall-clock time for event timestamps, ms since the epoch. Default Date.now. */
  readonly wallClockMs?: () => number;
  readonly logger?: ClientLogger;
  readonly filters?: readonly Filter[];
  readonly scorers?: readonly WeightedScorer[];
  readonly backoffMsInitial?: number;
  readonly backoffMsMax?: number;
  readonly unschedulableMsMax?: number;
  readonly queuedPodsMax?: number;
  /** How long an assumed pod whose binding finished may wait for the informer. Default 30,000. */
  readonly assumedPodTtlMs?: number;
  /** How often expired assumed pods are looked for. Default 1,000. */
  readonly assumedPodCheckMs?: number;
  /** kube-scheduler's percentageOfNodesToScore (see SchedulingProfile); 0, the default: adaptive. */
  readonly percentageOfNodesToScore?: number;
  /** Bindings written at once; the loop waits for one to finish past this. Default 64. */
  readonly bindsInFlightMax?: number;
  /** Event writes at once; past this, events are dropped and counted (eventsDropped). Default 256. */
  readonly eventsInFlightMax?: number;
  /** Pods whose last FailedScheduling event is remembered, to count repeats instead of writing new events. Default 10,000. */
  readonly failedEventsRememberedMax?: number;
}

export interface SchedulerStats {
  attempts: number;
  bound: number;
  unschedulable: number;
  bindConflicts: number;
  bindErrors: number;
  eventsRecorded: number;
  eventsDropped: number;
  eventErrors: number;
  assumed: number;
  queue: QueueCounts;
}

interface FailedEventMemory {
  readonly name: string;
  readonly namespace: string;
  readonly message: string;
  count: number;
}

function positiveInteger(value: number | undefined, fallback: number, option: string): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) throw invalidOption(option, `${resolved} must be an integer >= 1`);
  return resolved;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function controllerUid(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((ref) => ref.controller === true)?.uid;
}

function readyOf(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/** Whether a node update could let an unschedulable pod fit (the queue's NodeUpdate move events). */
export function nodeChangeMayHelp(oldNode: Node, newNode: Node): boolean {
  if (oldNode.spec?.unschedulable === true && newNode.spec?.unschedulable !== true) return true;
  if (readyOf(oldNode) !== readyOf(newNode) && (readyOf(newNode) === 'True' || readyOf(newNode) === undefined)) return true;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  return (
    !same(oldNode.metadata.labels, newNode.metadata.labels) ||
    !same(oldNode.spec?.taints, newNode.spec?.taints) ||
    !same(oldNode.status?.allocatable ?? oldNode.status?.capacity, newNode.status?.allocatable ?? newNode.status?.capacity)
  );
}

export class Scheduler {
  readonly schedulerName: string;
  private readonly client: Client;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly wallClockMs: () => number;
  private readonly logger: ClientLogger;
  private readonly profile: SchedulingProfile;
  private readonly queue: SchedulingQueue;
  private readonly cache: SchedulerCache;
  private readonly assumedPodCheckMs: number;
  private readonly bindsInFlightMax: number;
  private readonly eventsInFlightMax: number;
  private readonly failedEventsRememberedMax: number;
  private readonly binds = new Set<Promise<void>>();
  private readonly events = new Set<Promise<void>>();
  private readonly failedEvents = new Map<string, FailedEventMemory>();
  /** Where the next filter pass starts in the sorted node list (kube-scheduler's nextStartNodeIndex). */
  private nextStartNodeIndex = 0;
  private pods: Informer<Pod> | undefined;
  private services: Informer<Service> | undefined;
  private expiryTimer: TimerHandle | undefined;
  private started = false;
  private readonly counters = { attempts: 0, bound: 0, unschedulable: 0, bindConflicts: 0, bindErrors: 0, eventsRecorded: 0, eventsDropped: 0, eventErrors: 0 };

  constructor(options: SchedulerOptions) {
    if (options.client === undefined) throw invalidOption('client', 'is required');
    if (typeof options.random !== 'function') throw invalidOption('random', 'must be a function returning [0, 1)');
    this.client = options.client;
    this.schedulerName = options.schedulerName ?? defaultSchedulerName;
    if (this.schedulerName === '') throw invalidOption('schedulerName', 'must not be empty');
    this.random = options.random;
    this.clock = options.clock ?? systemClock;
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    const percentage = options.percentageOfNodesToScore ?? 0;
    if (!Number.isInteger(percentage) || percentage < 0 || percentage > 100) throw invalidOption('percentageOfNodesToScore', `${percentage} must be an integer from 0 (adaptive) to 100`);
    this.profile = { filters: options.filters ?? defaultFilters, scorers: options.scorers ?? defaultScorers, random: this.random, percentageOfNodesToScore: percentage };
    this.queue = new SchedulingQueue({
      clock: this.clock,
      backoffMsInitial: options.backoffMsInitial,
      backoffMsMax: options.backoffMsMax,
      unschedulableMsMax: options.unschedulableMsMax,
      queuedPodsMax: options.queuedPodsMax,
    });
    this.cache = new SchedulerCache(positiveInteger(options.assumedPodTtlMs, 30_000, 'assumedPodTtlMs'));
    this.assumedPodCheckMs = positiveInteger(options.assumedPodCheckMs, 1_000, 'assumedPodCheckMs');
    this.bindsInFlightMax = positiveInteger(options.bindsInFlightMax, 64, 'bindsInFlightMax');
    this.eventsInFlightMax = positiveInteger(options.eventsInFlightMax, 256, 'eventsInFlightMax');
    this.failedEventsRememberedMax = positiveInteger(options.failedEventsRememberedMax, 10_000, 'failedEventsRememberedMax');
  }

  stats(): SchedulerStats {
    return { ...this.counters, assumed: this.cache.assumedCount(), queue: this.queue.counts() };
  }

  /**
   * Schedules until `signal` aborts; settles once the loop, in-flight bindings and events,
   * informers and timers are all gone. Runs once per Scheduler (a new leadership term makes a
   * new one, with a fresh cache and queue).
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.started) throw new SchedulerError(SchedulerErrorCode.AlreadyRunning, `scheduler ${this.schedulerName} already ran; make a new one`);
    this.started = true;
    if (signal.aborted) return;
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const onAbort = (): void => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    stop.signal.addEventListener('abort', () => this.queue.close(), { once: true });
    const informers = this.startInformers(stop.signal);
    try {
      await Promise.all(informers.map((i) => i.informer.waitForSync(stop.signal)));
      this.logger.info({ scheduler: this.schedulerName, nodes: this.cache.nodeCount() }, 'scheduler caches synced; scheduling');
      this.armExpiryTimer();
      await this.loop(stop.signal);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      stop.abort(signal.reason);
      signal.removeEventListener('abort', onAbort);
      this.queue.close();
      this.expiryTimer?.cancel();
      this.expiryTimer = undefined;
      await Promise.allSettled([...this.binds, ...this.events, ...informers.map((i) => i.done)]);
    }
  }

  private startInformers(signal: AbortSignal): { informer: Informer<Pod> | Informer<Node> | Informer<Service>; done: Promise<void> }[] {
    const common = { clock: this.clock, logger: this.logger };
    const pods = createInformer(this.client, 'pods', common);
    const nodes = createInformer(this.client, 'nodes', common);
    const services = createInformer(this.client, 'services', common);
    this.pods = pods;
    this.services = services;
    pods.addHandler({ onAdd: (pod) => this.onPod(pod), onUpdate: (_old, pod) => this.onPod(pod), onDelete: (pod) => this.onPodDeleted(pod) });
    nodes.addHandler({
      onAdd: (node) => this.onNode(undefined, node),
      onUpdate: (old, node) => this.onNode(old, node),
      onDelete: (node) => this.cache.removeNode(deletedObject(node).metadata.name ?? ''),
    });
    const run = (resource: string, informer: Informer<Pod> | Informer<Node> | Informer<Service>): Promise<void> =>
      informer.run(signal).catch((error: unknown) => {
        if (!signal.aborted) this.logger.warn({ resource, error: String(error) }, 'scheduler informer stopped');
      });
    return [
      { informer: pods, done: run('pods', pods) },
      { informer: nodes, done: run('nodes', nodes) },
      { informer: services, done: run('services', services) },
    ];
  }

  /** A pod appeared or changed: bound, it is room taken on its node; pending and ours, it waits in the queue. */
  private onPod(pod: Pod): void {
    const key = objectKey(pod);
    if (pod.spec?.nodeName) {
      this.queue.delete(key);
      if (isTerminal(pod)) {
        if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoff();
      } else this.cache.upsertBoundPod(pod);
      return;
    }
    if ((pod.spec?.schedulerName || defaultSchedulerName) !== this.schedulerName || pod.metadata.deletionTimestamp !== undefined || isTerminal(pod)) {
      this.queue.delete(key);
      return;
    }
    try {
      this.queue.add(pod);
    } catch (error) {
      this.logger.warn({ pod: key, error: String(error) }, 'pod not queued');
    }
  }

  private onPodDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const key = objectKey(deletedObject(obj));
    this.queue.delete(key);
    this.failedEvents.delete(key);
    // A pod that held room freed it: every unschedulable pod may fit now (AssignedPodDelete).
    if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoff();
  }

  private onNode(old: Node | undefined, node: Node): void {
    this.cache.setNode(node);
    if (old === undefined || nodeChangeMayHelp(old, node)) this.queue.moveAllToActiveOrBackoff();
  }

  private async loop(signal: AbortSignal): Promise<void> {
    for (;;) {
      const item = await this.queue.pop();
      if (item === undefined || signal.aborted) return;
      await this.scheduleOne(item, this.queue.schedulingCycle(), signal);
    }
  }

  /** One attempt for one pod, read fresh from the cache (it may have changed or gone since it was queued). */
  private async scheduleOne(item: QueuedPod, cycle: number, signal: AbortSignal): Promise<void> {
    const pod = this.pods?.cache.get(item.key);
    if (pod === undefined || pod.spec?.nodeName || pod.metadata.deletionTimestamp !== undefined || this.cache.hasPod(item.key)) return;
    item.pod = pod;
    this.counters.attempts++;
    const ctx = newPodContext(pod, this.spreadGroupOf(pod));
    const nodes = this.cache.nodeInfos();
    const result = schedulePod(this.profile, ctx, nodes, this.nextStartNodeIndex);
    if (nodes.length > 0) this.nextStartNodeIndex = (this.nextStartNodeIndex + result.processed) % nodes.length;
    if (result.kind === 'unschedulable') {
      this.counters.unschedulable++;
      this.queue.addUnschedulable(item, cycle);
      this.logger.debug({ pod: item.key, message: result.message }, 'pod fits nowhere');
      this.recordFailedScheduling(pod, result.message, signal);
      return;
    }
    this.cache.assumePod(pod, result.nodeName);
    while (this.binds.size >= this.bindsInFlightMax) await Promise.race(this.binds);
    if (signal.aborted) {
      this.cache.forgetPod(item.key);
      return;
    }
    const bind = this.bind(item, pod, result.nodeName, signal).finally(() => this.binds.delete(bind));
    this.binds.add(bind);
  }

  private async bind(item: QueuedPod, pod: Pod, nodeName: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.bind(pod, nodeName, { signal });
    } catch (error) {
      // The room it held is free again, for whichever pod can use it.
      this.cache.forgetPod(item.key);
      this.queue.moveAllToActiveOrBackoff();
      if (signal.aborted) return;
      if (hasStatusReason(error, 'Conflict') || hasStatusReason(error, 'NotFound')) {
        // Bound elsewhere, being deleted, or gone: the informer brings the truth; nothing to retry.
        this.counters.bindConflicts++;
        this.logger.info({ pod: item.key, node: nodeName, error: String(error) }, 'binding refused; forgot the assumed pod');
        return;
      }
      this.counters.bindErrors++;
      this.logger.warn({ pod: item.key, node: nodeName, error: String(error) }, 'binding failed; retrying after backoff');
      this.queue.addBackoff(item);
      this.recordEvent(pod, 'Warning', EventReason.FailedScheduling, `Binding rejected: ${error instanceof Error ? error.message : String(error)}`, signal);
      return;
    }
    this.cache.finishBinding(item.key, this.clock.now());
    this.counters.bound++;
    this.failedEvents.delete(item.key);
    this.recordEvent(pod, 'Normal', EventReason.Scheduled, scheduledMessage(pod, nodeName), signal);
  }

  /** The pods that count as "the same group" for spreading: same controller, or selected by a Service that selects this pod. */
  private spreadGroupOf(pod: Pod): ((other: Pod) => boolean) | undefined {
    const namespace = pod.metadata.namespace ?? '';
    const owner = controllerUid(pod);
    const selectors = (this.services?.cache.byNamespace(namespace) ?? [])
      .map((service) => service.spec?.selector)
      .filter((selector): selector is Record<string, string> => selector !== undefined && Object.keys(selector).length > 0)
      .map((selector) => labelSelectorFromSet(selector))
      .filter((selector) => matchesLabels(selector, pod.metadata.labels));
    if (owner === undefined && selectors.length === 0) return undefined;
    return (other) =>
      other.metadata.namespace === namespace &&
      ((owner !== undefined && controllerUid(other) === owner) || selectors.some((selector) => matchesLabels(selector, other.metadata.labels)));
  }

  /** Repeats of the same failure for the same pod bump the count of one event (client-go's event correlator). */
  private recordFailedScheduling(pod: Pod, message: string, signal: AbortSignal): void {
    const key = objectKey(pod);
    const last = this.failedEvents.get(key);
    if (last !== undefined && last.message === message) {
      last.count++;
      const patch = { count: last.count, lastTimestamp: formatTime(this.wallClockMs()) };
      this.track(() => this.client.resource('events', last.namespace).patch(last.name, 'merge', patch, { signal }), signal);
      return;
    }
    const event = this.recordEvent(pod, 'Warning', EventReason.FailedScheduling, message, signal);
    if (event === undefined) return;
    this.failedEvents.delete(key);
    this.failedEvents.set(key, { name: event, namespace: pod.metadata.namespace ?? '', message, count: 1 });
    if (this.failedEvents.size > this.failedEventsRememberedMax) this.failedEvents.delete(this.failedEvents.keys().next().value as string);
  }

  /** Writes an event in the background; returns its name, or undefined when it was dropped. */
  private recordEvent(pod: Pod, type: EventType, reason: string, message: string, signal: AbortSignal): string | undefined {
    const event = podEvent({ pod, type, reason, message, component: this.schedulerName, epochMs: this.wallClockMs(), random: this.random });
    const written = this.track(() => this.client.resource('events', pod.metadata.namespace).create(event, { signal }), signal);
    return written ? event.metadata.name : undefined;
  }

  private track(write: () => Promise<unknown>, signal: AbortSignal): boolean {
    if (signal.aborted) return false;
    if (this.events.size >= this.eventsInFlightMax) {
      this.counters.eventsDropped++;
      this.logger.warn({ eventsInFlightMax: this.eventsInFlightMax }, 'event dropped: too many event writes in flight');
      return false;
    }
    const done: Promise<void> = write().then(
      () => {
        this.counters.eventsRecorded++;
      },
      (error: unknown) => {
        if (signal.aborted) return;
        this.counters.eventErrors++;
        this.logger.warn({ error: String(error) }, 'event not recorded');
      },
    );
    const tracked = done.finally(() => this.events.delete(tracked));
    this.events.add(tracked);
    return true;
  }

  /** A coarse periodic check: assumed pods the informer never confirmed give their room back. */
  private armExpiryTimer(): void {
    this.expiryTimer = this.clock.setTimer(() => {
      const expired = this.cache.expireAssumed(this.clock.now());
      if (expired.length > 0) {
        this.logger.warn({ pods: expired }, 'assumed pods expired before the informer showed them bound');
        this.queue.moveAllToActiveOrBackoff();
      }
      this.armExpiryTimer();
    }, this.assumedPodCheckMs);
  }
}
