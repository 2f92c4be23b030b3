// The read verbs' flags from one table per verb: node's parseArgs options and --help (every flag
// with its default, laid out as component-options.ts's flagLines) come from the same rows, so the
// help cannot forget a flag.

import { CliError, CliErrorCode, invalidFlag } from '../errors.js';
import { parseDurationMs } from '../duration.js';
import { parseVerbArgs, type ParsedVerbArgs, type VerbFlag, type VerbIO } from './session.js';

export interface ReadFlag {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** Given more than once, the values add up (`-L app -L tier`). */
  readonly multiple?: boolean;
  /** As --help shows the value: `<format>`. */
  readonly value?: string;
  /** As --help shows the default. */
  readonly fallback: string;
  readonly text: string;
}

/** The connection flags every verb has (session.ts parses them), as --help lists them. */
const connectionHelp: readonly ReadFlag[] = [
  { name: 'namespace', short: 'n', type: 'string', value: '<namespace>', fallback: "the config's, else default", text: 'the namespace to read' },
  { name: 'server', short: 's', type: 'string', value: '<url,...>', fallback: "the config's servers", text: "every master's API address, comma-separated; the leader is followed" },
  { name: 'token', type: 'string', value: '<token>', fallback: "the config's token", text: 'bearer token for the API' },
  { name: 'config', type: 'string', value: '<file>', fallback: '$RAFTPLANE_CONFIG, else .cluster/local-3/raftplane.json', text: 'the CLI config written by raftplane cluster up' },
];

const helpFlag: ReadFlag = { name: 'help', short: 'h', type: 'boolean', fallback: 'false', text: 'print this help and exit' };

/** `  -o, --output <format>   text (default x)` lines, aligned. */
export function readFlagLines(flags: readonly ReadFlag[]): string[] {
  const left = flags.map((f) => `${f.short === undefined ? '    ' : `-${f.short}, `}--${f.name}${f.value === undefined ? '' : ` ${f.value}`}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return flags.map((f, i) => `  ${(left[i] as string).padEnd(width)}${f.text} (default ${f.fallback})`);
}

export interface VerbHelp {
  readonly usage: readonly string[];
  readonly summary: readonly string[];
  readonly examples?: readonly string[];
}

export function verbUsage(help: VerbHelp, flags: readonly ReadFlag[]): string {
  return [
    ...help.usage.map((u, i) => `${i === 0 ? 'usage:' : '      '} ${u}`),
    '',
    ...help.summary,
    ...(help.examples === undefined ? [] : ['', 'examples:', ...help.examples.map((e) => `  ${e}`)]),
    '',
    'flags:',
    ...readFlagLines([...flags, ...connectionHelp, helpFlag]),
  ].join('\n');
}

/** Parses argv with `flags` (plus the connection flags and -h/--help); a bad flag is a one-line CliError. */
export function parseReadArgs(verb: string, argv: readonly string[], flags: readonly ReadFlag[]): ParsedVerbArgs {
  const options: Record<string, VerbFlag> = {};
  for (const f of [...flags, helpFlag]) options[f.name] = { type: f.type, ...(f.short === undefined ? {} : { short: f.short }), ...(f.multiple === true ? { multiple: true } : {}) };
  try {
    return parseVerbArgs(verb, argv, options);
  } catch (error) {
    throw oneLineFlagError(error, [...flags, ...connectionHelp]);
  }
}

/**
 * Two of node's parseArgs errors read badly through the shared parseArgsError, which cannot know a
 * short flag's long name: a value that starts with a dash after a short flag (`-o -x`) is three
 * lines, and a short flag without its value names itself `-o,`. (parseArgsError rewords the
 * long-flag case, `--tail -1`, the same way.)
 */
function oneLineFlagError(error: unknown, flags: readonly ReadFlag[]): unknown {
  if (!(error instanceof CliError)) return error;
  const ambiguous = /^Option '(-{1,2}[\w-]+)'.*argument is ambiguous/s.exec(error.message);
  if (ambiguous !== null) {
    const flag = ambiguous[1] as string;
    const long = flag.startsWith('--') ? flag : `--${flags.find((f) => `-${f.short}` === flag)?.name ?? flag.slice(1)}`;
    return new CliError(CliErrorCode.InvalidFlag, `${flag} needs a value (one that starts with a dash is written ${long}=<value>)`, long);
  }
  const short = /^-(\w), needs a value$/.exec(error.message);
  const named = short === null ? undefined : flags.find((f) => f.short === short[1]);
  if (named !== undefined) return new CliError(CliErrorCode.InvalidFlag, `-${named.short}, --${named.name} needs a value`, `--${named.name}`);
  return error;
}

/** Prints the usage when --help was given; true when the verb should stop there. */
export function printedHelp(values: ParsedVerbArgs['values'], io: VerbIO, usage: string): boolean {
  if (values.help !== true) return false;
  io.stdout.write(`${usage}\n`);
  return true;
}

export function stringFlag(values: ParsedVerbArgs['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A non-negative integer flag (`--tail 20`); -1 is kubectl's "all" where `allowAll`. */
export function integerFlag(values: ParsedVerbArgs['values'], name: string, allowAll: boolean): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text) || (Number(text) < 0 && !(allowAll && Number(text) === -1))) {
    throw invalidFlag(name, `${JSON.stringify(text)} must be a non-negative integer${allowAll ? ' (or -1 for all)' : ''}`);
  }
  return Number(text);
}

/** A duration flag in whole seconds, rounded up (`--since 5m` → 300). */
export function secondsFlag(values: ParsedVerbArgs['values'], name: string): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === null || ms <= 0) throw invalidFlag(name, `${JSON.stringify(text)} is not a positive duration (want e.g. 30s, 5m, 1h)`);
  return Math.ceil(ms / 1000);
}

/** An RFC 3339 time as kubectl's --since-time takes it (`2026-11-26T21:00:00Z`, `…+01:00`), passed on as written. */
export function rfc3339Flag(values: ParsedVerbArgs['values'], name: string): string | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw invalidFlag(name, `${JSON.stringify(text)} is not an RFC 3339 time (want e.g. 2026-11-26T21:00:00Z)`);
  }
  return text;
}

/** `-o` values a verb accepts; anything else names them. */
export function outputFlag<T extends string>(values: ParsedVerbArgs['values'], allowed: readonly T[]): T | undefined {
  const text = stringFlag(values, 'output');
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new CliError(CliErrorCode.InvalidFlag, `unable to match a printer suitable for the output format "${text}", allowed formats are: ${allowed.join(',')}`, '--output');
  }
  return text as T;
}
