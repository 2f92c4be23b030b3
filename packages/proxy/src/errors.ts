// The catalogue of failures the service proxy reports itself, each with a stable code (house rule 7).
// Connection-level failures (a refused backend, a listen error) are logged and counted, never thrown:
// the proxy keeps serving every other Service.

export const ProxyErrorCode = {
  /** A constructor option is missing, of the wrong type or out of range; `option` names it. */
  InvalidOption: 'PROXY_INVALID_OPTION',
  /** `run` was called a second time on the same ServiceProxy. */
  AlreadyRunning: 'PROXY_ALREADY_RUNNING',
} as const;
export type ProxyErrorCode = (typeof ProxyErrorCode)[keyof typeof ProxyErrorCode];

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly code: ProxyErrorCode;
  readonly option: string | undefined;

  constructor(code: ProxyErrorCode, message: string, option?: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.option = option;
  }
}

export function isProxyError(error: unknown, code?: ProxyErrorCode): error is ProxyError {
  return error instanceof ProxyError && (code === undefined || error.code === code);
}

export function invalidOption(option: string, problem: string): ProxyError {
  return new ProxyError(ProxyErrorCode.InvalidOption, `option ${option}: ${problem}`, option);
}
