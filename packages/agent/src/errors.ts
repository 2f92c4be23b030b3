// The agent's own failures, each with a stable code (house rule 7). Answers from the apiserver stay
// StatusErrors from @raftplane/api; these are what the agent and its runtimes report themselves.

export const AgentErrorCode = {
  /** A flag or option is missing or out of range; the message names it. */
  InvalidOption: 'AGENT_INVALID_OPTION',
  /** The image could not be made present (Kubernetes' ErrImagePull). */
  ImagePull: 'AGENT_IMAGE_PULL',
  /** imagePullPolicy Never and the image is absent (Kubernetes' ErrImageNeverPull). */
  ImageNeverPull: 'AGENT_IMAGE_NEVER_PULL',
  /** The pod's spec cannot be turned into a container (no command for the process runtime; a missing ConfigMap key). */
  CreateContainerConfig: 'AGENT_CREATE_CONTAINER_CONFIG',
  /** The runtime refused to create the container. */
  CreateContainer: 'AGENT_CREATE_CONTAINER',
  /** The container was created but did not start (the executable is missing). */
  StartContainer: 'AGENT_START_CONTAINER',
  /** The runtime itself cannot be reached (Docker's socket) or answered something unexpected. */
  RuntimeUnavailable: 'AGENT_RUNTIME_UNAVAILABLE',
  /** No free address is left in the node's pod range. */
  PodAddressesExhausted: 'AGENT_POD_ADDRESSES_EXHAUSTED',
  /** A container id the runtime does not know. */
  ContainerNotFound: 'AGENT_CONTAINER_NOT_FOUND',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isAgentError(error: unknown, code?: AgentErrorCode): error is AgentError {
  return error instanceof AgentError && (code === undefined || error.code === code);
}

export function invalidOption(option: string, problem: string): AgentError {
  return new AgentError(AgentErrorCode.InvalidOption, `option ${option}: ${problem}`);
}
