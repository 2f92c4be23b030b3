// The container runtime seen by the agent: the one interface both runtimes implement (child
// processes for `--runtime process`, Docker's Engine API for `--runtime docker`). The agent decides
// what should run; a runtime only starts, stops, lists and reads containers. Every container a
// runtime starts carries its labels, so a restarted agent finds (adopts) what is already running
// instead of starting duplicates, and several agents can share one Docker engine.

/** What identifies a container to the agent; stored with the container (Docker labels, a state file). */
export interface ContainerLabels {
  /** The agent's node name: a runtime lists only its own node's containers. */
  readonly nodeName: string;
  readonly podUid: string;
  readonly podNamespace: string;
  readonly podName: string;
  readonly containerName: string;
  /** 0 for the first start of this container in this pod, +1 per restart (the restartCount it ran as). */
  readonly attempt: number;
}

export interface VolumeMount {
  /** A directory or file on this machine that the agent prepared (emptyDir, configMap, secret) or a hostPath. */
  readonly hostPath: string;
  /** The pod spec's mountPath. */
  readonly containerPath: string;
  readonly readOnly: boolean;
}

export interface ContainerStartSpec {
  readonly labels: ContainerLabels;
  readonly image: string;
  /** Kubernetes' `command` (replaces the image's entrypoint) and `args`. */
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  /** Fully resolved environment (literal values, ConfigMaps, Secrets, and POD_IP and friends). */
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir: string | undefined;
  readonly mounts: readonly VolumeMount[];
  /** The pod's own loopback address; containers bind to it (they also get it as $POD_IP). */
  readonly podIP: string;
  /** Limits from resources.limits: millicores and bytes. */
  readonly cpuMillis: number | undefined;
  readonly memoryBytes: number | undefined;
  /**
   * A directory of the agent's for this pod (`<agent data dir>/pods/<uid>`), existing. The process
   * runtime keeps each container's working directory and log files under it.
   */
  readonly podDir: string;
}

export type ContainerState = 'created' | 'running' | 'exited';

export interface RuntimeContainer {
  /** Stable for the container's life; the pod's containerID is `<runtime>://<id>`. */
  readonly id: string;
  readonly labels: ContainerLabels;
  readonly image: string;
  /** The image's id as the runtime knows it (`docker-pullable://…`, `sha256:…`); '' when unknown. */
  readonly imageId: string;
  readonly state: ContainerState;
  /** Wall-clock milliseconds. */
  readonly createdAt: number;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  /** Set once exited. A process killed by a signal reports 128 + the signal's number (137 for SIGKILL). */
  readonly exitCode: number | undefined;
  /** Once exited: 'Completed' (exit 0), 'Error', 'OOMKilled', or 'ContainerStatusUnknown'. */
  readonly reason: string | undefined;
  readonly message: string | undefined;
}

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface LogOptions {
  /** Keep the stream open and send new output until `signal` aborts or the container exits. */
  readonly follow: boolean;
  /** Only the last N lines (before following). */
  readonly tailLines: number | undefined;
  /** Only output written at or after this wall-clock millisecond, where the runtime can tell. */
  readonly sinceMs: number | undefined;
  /** Prefix each line with its RFC 3339 time, where the runtime can tell. */
  readonly timestamps: boolean;
  readonly signal: AbortSignal;
}

export interface ExecResult {
  readonly exitCode: number;
  /** stdout and stderr, at most a few KiB (Kubernetes keeps 10 KiB of a probe's output). */
  readonly output: string;
}

export interface ContainerRuntime {
  /** 'process' or 'docker': the containerID's scheme. */
  readonly name: string;
  /**
   * Makes `image` present as `policy` says; `pulled` tells whether it had to be fetched. Fails with
   * a RuntimeError coded ImagePull (not found, engine refused) or ImageNeverPull (Never, and absent).
   */
  ensureImage(image: string, policy: ImagePullPolicy, signal: AbortSignal): Promise<{ readonly pulled: boolean }>;
  /** Creates and starts a container; fails with an AgentError coded CreateContainerConfig, CreateContainer or StartContainer. */
  start(spec: ContainerStartSpec): Promise<RuntimeContainer>;
  /**
   * SIGTERM (to the whole process group), then SIGKILL once `gracePeriodMs` has passed; resolves when
   * the container has exited. Stopping an exited or unknown container is a no-op.
   */
  stop(id: string, gracePeriodMs: number): Promise<void>;
  /** Forgets an exited container (its logs go with it). Removing an unknown id is a no-op. */
  remove(id: string): Promise<void>;
  /** Every container of this node (by labels.nodeName), running or exited. */
  list(): Promise<RuntimeContainer[]>;
  inspect(id: string): Promise<RuntimeContainer | undefined>;
  /** The container's output (stdout and stderr interleaved), as Kubernetes' pods/log serves it. */
  logs(id: string, options: LogOptions): AsyncIterable<Uint8Array>;
  /** Runs `command` in the container (exec probes); a timeout is exit code -1 with output 'timeout'. */
  exec(id: string, command: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** Calls `listener` when one of this node's containers exits, so the agent need not poll. */
  onExit(listener: (id: string) => void): () => void;
  /** Releases the runtime's own resources (sockets, watchers). Containers keep running. */
  close(): Promise<void>;
}
