// The failures the controllers report themselves, each with a stable code (house rule 7). Answers
// from the apiserver stay StatusErrors from @raftplane/api; these are for what no server said.

export const ControllerErrorCode = {
  /** An option given to a constructor is missing or out of range; `option` names it. */
  InvalidOption: 'CONTROLLER_INVALID_OPTION',
  /** `run` was called a second time: a controller runs once, under one leadership signal. */
  AlreadyRunning: 'CONTROLLER_ALREADY_RUNNING',
  /** An object's spec can never be acted on (a selector that does not parse): reported, not retried. */
  InvalidSpec: 'CONTROLLER_INVALID_SPEC',
  /** A ReplicaSet named by the template hash exists and is not this Deployment's (Kubernetes' hash collision). */
  HashCollision: 'CONTROLLER_HASH_COLLISION',
  /** Some of the creates or deletes of one sync failed; the sync is retried with backoff. */
  PartialSync: 'CONTROLLER_PARTIAL_SYNC',
} as const;
export type ControllerErrorCode = (typeof ControllerErrorCode)[keyof typeof ControllerErrorCode];

export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  readonly code: ControllerErrorCode;
  readonly option: string | undefined;

  constructor(code: ControllerErrorCode, message: string, options: { cause?: unknown; option?: string } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.option = options.option;
  }
}

export function isControllerError(error: unknown, code?: ControllerErrorCode): error is ControllerError {
  return error instanceof ControllerError && (code === undefined || error.code === code);
}

export function invalidOption(option: string, problem: string): ControllerError {
  return new ControllerError(ControllerErrorCode.InvalidOption, `option ${option}: ${problem}`, { option });
}
