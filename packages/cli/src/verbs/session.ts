// What every kubectl-like verb shares: its connection flags (--server, --token, --config,
// -n/--namespace) parsed with the verb's own, an HTTP client to every master (it follows the
// leader), and the I/O it writes to (injected, so tests run verbs in process).

import { setMaxListeners } from 'node:events';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createHttpClient, type HttpClient } from '@raftplane/client';
import { parseArgsError } from '../component-options.js';
import { resolveCliConfig, type CliConfig } from './cli-config.js';

export interface VerbIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Colour and live progress lines only on a terminal. */
  readonly isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM: long-running verbs (-w, -f, rollout status) stop and return. */
  readonly signal: AbortSignal;
  /** stdin, for `-f -`. */
  readonly stdin?: NodeJS.ReadableStream;
}

/** One verb: parses its argv (everything after the verb) and returns the exit code. */
export type Verb = (argv: readonly string[], io: VerbIO) => Promise<number>;

export interface VerbFlag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean;
}

/** The flags every verb takes. */
export const connectionFlags: Readonly<Record<string, VerbFlag>> = {
  server: { type: 'string', short: 's' },
  token: { type: 'string' },
  config: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
};

export interface ParsedVerbArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

/** Parses a verb's argv with its flags plus the connection flags; a bad flag is a one-line CliError. */
export function parseVerbArgs(verb: string, argv: readonly string[], flags: Readonly<Record<string, VerbFlag>>): ParsedVerbArgs {
  try {
    const parsed = parseArgs({ args: [...argv], options: { ...connectionFlags, ...flags } as ParseArgsConfig['options'], strict: true, allowPositionals: true });
    return { values: parsed.values as ParsedVerbArgs['values'], positionals: parsed.positionals };
  } catch (error) {
    throw parseArgsError(error, verb);
  }
}

export interface Session {
  readonly client: HttpClient;
  readonly config: CliConfig;
  /** -n, else the config's namespace ('default'). */
  readonly namespace: string;
  close(): Promise<void>;
}

/** Opens a client on the cluster the flags (or the config) name. Close it when done. */
export function openSession(values: ParsedVerbArgs['values'], io: VerbIO): Session {
  const config = resolveCliConfig({ server: values.server as string | undefined, token: values.token as string | undefined, config: values.config as string | undefined }, io.env);
  const lifetime = new AbortController();
  setMaxListeners(64, lifetime.signal);
  // Few attempts: an operator waiting at a prompt wants the error, not minutes of retries.
  const client = createHttpClient({ endpoints: config.servers, token: config.token, signal: lifetime.signal, userAgent: 'raftplane-cli/0.1.0', retry: { attemptsMax: 3, delayMsMin: 100, delayMsMax: 1_000 } });
  return {
    client,
    config,
    namespace: (values.namespace as string | undefined) ?? config.namespace,
    async close() {
      lifetime.abort(new Error('the command is done'));
      await client.closed.catch(() => undefined);
    },
  };
}

/** A failure inside a session, with the servers it talked to (for "cannot reach the cluster: tried ..."). */
export class SessionFailure extends Error {
  constructor(
    readonly failure: unknown,
    readonly servers: readonly string[],
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}

/** Opens a session, runs `work` in it, and closes it; a failure carries the servers tried. */
export async function withSession<T>(values: ParsedVerbArgs['values'], io: VerbIO, work: (session: Session) => Promise<T>): Promise<T> {
  const session = openSession(values, io);
  try {
    return await work(session);
  } catch (error) {
    throw new SessionFailure(error, session.config.servers);
  } finally {
    await session.close();
  }
}
