// Where the kubectl-like verbs find the cluster: `--server`/`--token` flags first, then the file
// named by `--config` or $RAFTPLANE_CONFIG, then the config `raftplane cluster up` (and `npm
// start`) writes for the default local cluster, `.cluster/local-3/raftplane.json` in the
// repository. The file holds every master's address, so the verbs follow the leader.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, CliErrorCode } from '../errors.js';

export interface CliConfig {
  /** Every master's API origin. */
  readonly servers: readonly string[];
  readonly token: string | undefined;
  /** The namespace used when no -n is given. */
  readonly namespace: string;
  /** Where it came from, for error messages. */
  readonly source: string;
}

/** The repository root (packages/cli/dist/verbs/ → four levels up). */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export const defaultConfigPath = join(repositoryRoot, '.cluster', 'local-3', 'raftplane.json');

/** The CLI config file's contents as `raftplane cluster up` writes them. */
export interface CliConfigFile {
  readonly servers: readonly string[];
  readonly token?: string;
  readonly namespace?: string;
}

function configError(message: string): CliError {
  return new CliError(CliErrorCode.InvalidFlag, message, '--config');
}

export function readConfigFile(path: string): CliConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(`the config ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw configError(`the config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const file = parsed as Partial<CliConfigFile>;
  if (!Array.isArray(file.servers) || file.servers.length === 0 || file.servers.some((s) => typeof s !== 'string')) throw configError(`the config ${path}: "servers" must be a non-empty array of URLs`);
  if (file.token !== undefined && typeof file.token !== 'string') throw configError(`the config ${path}: "token" must be a string`);
  if (file.namespace !== undefined && typeof file.namespace !== 'string') throw configError(`the config ${path}: "namespace" must be a string`);
  return file as CliConfigFile;
}

export interface ConnectionFlags {
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  readonly config?: string | undefined;
}

/** Resolves the cluster to talk to; throws a CliError saying what to do when there is none. */
export function resolveCliConfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const path = flags.config ?? env.RAFTPLANE_CONFIG ?? (existsSync(defaultConfigPath) ? defaultConfigPath : undefined);
  // With --server the file adds only a token and a namespace, so a $RAFTPLANE_CONFIG naming no file
  // is not an error then (the verb tests run with --server and RAFTPLANE_CONFIG=/nonexistent/...).
  const optional = flags.server !== undefined && flags.config === undefined;
  const file = path === undefined || (optional && !existsSync(path)) ? undefined : readConfigFile(path);
  const servers = flags.server !== undefined ? flags.server.split(',').map((s) => s.trim()).filter((s) => s !== '') : file?.servers;
  if (servers === undefined || servers.length === 0) {
    throw new CliError(
      CliErrorCode.MissingFlag,
      `no cluster to talk to: start one (npm start, or raftplane cluster up), or give --server http://127.0.0.1:6441 --token <token>, or --config <file> (default ${defaultConfigPath})`,
      '--server',
    );
  }
  return { servers, token: flags.token ?? file?.token, namespace: file?.namespace ?? 'default', source: flags.server !== undefined ? '--server' : (path ?? '') };
}
