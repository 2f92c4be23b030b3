// The catalogue of failures the raftplane command reports, each with a stable code; tests assert on
// the code, operators read the one-line message (which flag, what was wrong).

export const CliErrorCode = {
  /** No subcommand, or one that does not exist. */
  UnknownCommand: 'CLI_UNKNOWN_COMMAND',
  /** A flag that the subcommand does not have, or a stray positional argument. */
  UnknownFlag: 'CLI_UNKNOWN_FLAG',
  /** A flag whose value is missing or malformed; `flag` names it. */
  InvalidFlag: 'CLI_INVALID_FLAG',
  /** A required flag was not given. */
  MissingFlag: 'CLI_MISSING_FLAG',
  /** Flags that are valid alone but not together (`--token` and `--token-file`, lease timings). */
  ConflictingFlags: 'CLI_CONFLICTING_FLAGS',
  /** A resource type the server does not serve (`raftplane get podz`). */
  UnknownResource: 'CLI_UNKNOWN_RESOURCE',
  /** A positional argument that is malformed or missing (a name, a file, `type/name`). */
  InvalidArgument: 'CLI_INVALID_ARGUMENT',
  /** A manifest file that cannot be read or parsed (`-f`): names the file and the document. */
  InvalidManifest: 'CLI_INVALID_MANIFEST',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  /** The flag at fault (`--lease-duration`), when one is. */
  readonly flag: string | undefined;

  constructor(code: CliErrorCode, message: string, flag?: string) {
    super(message);
    this.code = code;
    this.flag = flag;
  }
}

export function invalidFlag(flag: string, message: string): CliError {
  return new CliError(CliErrorCode.InvalidFlag, `--${flag} ${message}`, `--${flag}`);
}
