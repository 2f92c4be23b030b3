// The flags several write verbs share (-f, -R, -o name), parsed the same way everywhere.

import { CliError, CliErrorCode } from '../errors.js';
import type { VerbFlag } from './session.js';

/** -f (repeatable: files, directories, `-` for stdin) and -R (walk directories). */
export const manifestFlags: Readonly<Record<string, VerbFlag>> = {
  filename: { type: 'string', short: 'f', multiple: true },
  recursive: { type: 'boolean', short: 'R' },
};

/** -o: the write verbs print `kind/name` with `-o name`; other formats belong to get. */
export function outputName(output: string | undefined): boolean {
  if (output === undefined) return false;
  if (output === 'name') return true;
  throw new CliError(CliErrorCode.InvalidFlag, `unable to match a printer suitable for the output format "${output}", allowed formats are: name`, '--output');
}
