// The catalogue of failures the scheduler reports itself, each with a stable code (house rule 7);
// answers from the apiserver stay the server's StatusError and are branched on by reason.

export const SchedulerErrorCode = {
  /** A constructor option is missing, of the wrong type or out of range; `option` names it. */
  InvalidOption: 'SCHEDULER_INVALID_OPTION',
  /** The scheduling queue holds `queuedPodsMax` pods already; the pod was not added. */
  QueueFull: 'SCHEDULER_QUEUE_FULL',
  /** `run` was called a second time on the same Scheduler. */
  AlreadyRunning: 'SCHEDULER_ALREADY_RUNNING',
} as const;
export type SchedulerErrorCode = (typeof SchedulerErrorCode)[keyof typeof SchedulerErrorCode];

export class SchedulerError extends Error {
  override readonly name = 'SchedulerError';
  readonly code: SchedulerErrorCode;
  readonly option: string | undefined;

  constructor(code: SchedulerErrorCode, message: string, option?: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.option = option;
  }
}

export function isSchedulerError(error: unknown, code?: SchedulerErrorCode): error is SchedulerError {
  return error instanceof SchedulerError && (code === undefined || error.code === code);
}

export function invalidOption(option: string, problem: string): SchedulerError {
  return new SchedulerError(SchedulerErrorCode.InvalidOption, `option ${option}: ${problem}`, option);
}
