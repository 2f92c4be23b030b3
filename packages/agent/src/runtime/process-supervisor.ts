// How the process runtime launches a container: a tiny /bin/sh supervisor that runs the command in
// the foreground and writes its exit status to a file, so the status outlives the agent.
//
// The supervisor, as run:   sh -c SCRIPT raftplane-supervisor <exit file> <executable> <args...>
// with stdout on the log file, stderr on /dev/null and the log file again as fd 3:
//
//   trap : TERM INT HUP         catch (not ignore: an ignored signal would stay ignored in the command)
//   f=$1; shift
//   unset PWD                   dash exports PWD; the container's env is exactly what the spec says
//   (exec "$@" 2>&3 3>&-)       the command, in the foreground, stderr on the log, fd 3 closed
//   s=$?                        128+N when the command was killed by signal N (137 for SIGKILL)
//   echo "$s" > "$f"
//   exit "$s"
//
// Why a foreground command and a trap that does nothing: `stop` signals the whole process group
// (the supervisor is its leader), so the command gets SIGTERM straight from the runtime, exactly
// once, as Kubernetes sends it. The shell defers its own trap until the foreground command has
// exited (POSIX, "trap"), then records the command's status. Forwarding the signal from the trap
// would deliver it twice, and many programs take a second SIGTERM as "give up the graceful
// shutdown". Running the command in the background (`"$@" &`) would make it ignore SIGINT and SIGQUIT
// for good (POSIX asynchronous lists in a non-interactive shell). A SIGTERM sent to the supervisor's
// pid alone is therefore ignored: signal the group, `kill -TERM -<pid>`.
//
// Why the subshell with exec: the command is the supervisor's only child, with default signal
// dispositions (a subshell resets caught signals), and the shell's own notices ("Killed", printed
// when a foreground command dies of a signal) go to the supervisor's stderr, /dev/null, not into
// the container's log. If exec fails (the executable vanished since start checked it), its message
// goes to the log and the status is 127.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, resolve } from 'node:path';

const SCRIPT_HEAD = 'trap : TERM INT HUP\nf=$1; shift\n';
const SCRIPT_TAIL = '(exec "$@" 2>&3 3>&-)\ns=$?\necho "$s" > "$f"\nexit "$s"\n';

/** The script, keeping PWD only when the spec itself sets it. */
export function supervisorScript(keepPwd: boolean): string {
  return SCRIPT_HEAD + (keepPwd ? '' : 'unset PWD\n') + SCRIPT_TAIL;
}

/** $0 of the supervisor shell: what `ps` shows for it. */
export const SUPERVISOR_NAME = 'raftplane-supervisor';

/** Used when neither the spec nor the agent has a PATH (Docker's default for Linux images). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The container's environment: exactly the spec's, plus PATH and HOME from the agent's own
 * environment when the spec lacks them (an image would bring its own; here the host's are the image).
 */
export function containerEnv(specEnv: Readonly<Record<string, string>>, agentEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = { ...specEnv };
  env['PATH'] ??= agentEnv['PATH'] ?? DEFAULT_PATH;
  const home = agentEnv['HOME'];
  if (env['HOME'] === undefined && home !== undefined) env['HOME'] = home;
  return env;
}

/**
 * The absolute path of the executable `command` names, found as execvp would: a name with a slash
 * is relative to `cwd`; a bare name is searched in `pathVar` (an empty entry is the working
 * directory). Returns the reason instead when there is none, so a missing executable fails start()
 * at once rather than as a 127 from the shell a moment later. A path, not the bare name, goes to the
 * supervisor, so a name like `exec` or `exit` runs the program, not the shell's builtin; the program
 * sees that path as argv[0].
 */
export function resolveExecutable(command: string, cwd: string, pathVar: string): { path: string } | { problem: string } {
  if (command === '') return { problem: 'the command is an empty string' };
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    const problem = executableProblem(path);
    return problem === undefined ? { path } : { problem: `${command}: ${problem}` };
  }
  for (const dir of pathVar.split(delimiter)) {
    const path = resolve(cwd, dir, command);
    if (executableProblem(path) === undefined) return { path };
  }
  return { problem: `executable file ${JSON.stringify(command)} not found in $PATH (${pathVar})` };
}

function executableProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    accessSync(path, fsConstants.X_OK);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export interface SuperviseOptions {
  readonly executable: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly exitPath: string;
  /** An open file descriptor the command's stdout and stderr go to; the caller closes its copy after spawn. */
  readonly logFd: number;
}

/**
 * Spawns the supervisor in a new session and process group of its own (`detached`), unref'd so the
 * agent may exit while it runs. The log file is passed as a descriptor, not a pipe, so output keeps
 * flowing with no agent reading it. Throws what spawn throws synchronously (bad arguments); a failure
 * to start is the child's 'error' event, with `pid` undefined.
 */
export function spawnSupervisor(options: SuperviseOptions): ChildProcess {
  const script = supervisorScript(options.env['PWD'] !== undefined);
  const child = spawn('/bin/sh', ['-c', script, SUPERVISOR_NAME, options.exitPath, options.executable, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', options.logFd, 'ignore', options.logFd],
    detached: true,
    windowsHide: true,
  });
  child.unref();
  return child;
}

/** 128 + the signal's number, as a shell reports a command killed by it (137 for SIGKILL). */
export function signalExitCode(signal: NodeJS.Signals): number {
  const signalNumber: number | undefined = osConstants.signals[signal];
  return 128 + (signalNumber ?? 0);
}
