// The write verbs' flags, one table per verb as the read verbs keep them (read-flags.ts): node's
// parseArgs options and --help come from the same rows. A row may repeat (-f a -f b), which the
// read verbs' rows never need; the rows shared by several verbs (-f, -R, --dry-run, -o) live here.

import { CliError, CliErrorCode } from '../errors.js';
import { printedHelp, verbUsage, type ReadFlag, type VerbHelp } from './read-flags.js';
import { parseVerbArgs, type ParsedVerbArgs, type VerbFlag, type VerbIO } from './session.js';

export interface WriteFlag extends ReadFlag {
  /** Given more than once, every value is kept (an array). */
  readonly multiple?: boolean;
}

const helpFlag: WriteFlag = { name: 'help', short: 'h', type: 'boolean', fallback: 'false', text: 'print this help and exit' };

export const filenameFlag: WriteFlag = { name: 'filename', short: 'f', type: 'string', multiple: true, value: '<path>', fallback: 'none', text: 'a manifest file, a directory of them (.yaml, .yml, .json), or - for stdin; repeatable' };
export const recursiveFlag: WriteFlag = { name: 'recursive', short: 'R', type: 'boolean', fallback: 'false', text: "walk -f directories' subdirectories too" };
export const dryRunFlag: WriteFlag = { name: 'dry-run', type: 'string', value: '<none|client|server>', fallback: 'none', text: 'client: send nothing; server: the API validates but stores nothing (dryRun=All)' };
export const outputFlag: WriteFlag = { name: 'output', short: 'o', type: 'string', value: 'name', fallback: 'kubectl\'s "<kind>/<name> <what happened>" lines', text: 'name: print only <kind>/<name>' };

export interface WriteArgs extends ParsedVerbArgs {
  /** --help was given and the usage printed: the verb returns 0. */
  readonly helped: boolean;
}

/** Parses argv with `flags` (plus the connection flags and -h/--help); prints the usage on --help. */
export function parseWriteArgs(verb: string, argv: readonly string[], flags: readonly WriteFlag[], help: VerbHelp, io: VerbIO): WriteArgs {
  const options: Record<string, VerbFlag> = {};
  for (const f of [...flags, helpFlag]) options[f.name] = { type: f.type, ...(f.short === undefined ? {} : { short: f.short }), ...(f.multiple === true ? { multiple: true } : {}) };
  const parsed = parseVerbArgs(verb, argv, options);
  return { ...parsed, helped: printedHelp(parsed.values, io, verbUsage(help, flags)) };
}

/** -o: the write verbs print `kind/name` with `-o name`; other formats belong to get. */
export function outputName(output: string | undefined): boolean {
  if (output === undefined) return false;
  if (output === 'name') return true;
  throw new CliError(CliErrorCode.InvalidFlag, `unable to match a printer suitable for the output format "${output}", allowed formats are: name`, '--output');
}

/** The -f values, always a list. */
export function filenames(values: ParsedVerbArgs['values']): string[] {
  const value = values.filename;
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}
