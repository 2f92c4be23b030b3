// What an operator reads when a verb fails: one line, kubectl's wording where kubectl has one.
// A cluster that cannot be reached names every endpoint tried; an invalid object lists each field
// path with what is wrong; a conflict says to re-read and retry.

import { isStatusError, type Status } from '@raftplane/api';
import { isClientError } from '@raftplane/client';
import { CliError } from '../errors.js';

export function describeCliFailure(error: unknown, servers: readonly string[]): string {
  if (error instanceof CliError) return error.message;
  if (isStatusError(error)) return describeStatus(error.status);
  if (isClientError(error)) {
    if (error.code === 'CLIENT_UNREACHABLE' || error.code === 'CLIENT_OUTCOME_UNKNOWN') {
      return `cannot reach the cluster: tried ${servers.join(', ')} (${error.message.replace(/^CLIENT_[A-Z_]+: /, '')}); is it running? (raftplane cluster status)`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** kubectl's `Error from server (<Reason>): <message>`, with a 422's causes one per line. */
export function describeStatus(status: Status): string {
  const reason = status.reason ?? 'Unknown';
  const causes = status.details?.causes ?? [];
  if (reason === 'Invalid' && causes.length > 0) {
    const what = `${status.details?.kind ?? 'object'} "${status.details?.name ?? ''}" is invalid`;
    return [`The ${what}:`, ...causes.map((c) => `* ${c.field ?? ''}: ${c.message ?? ''}`)].join('\n');
  }
  return `Error from server (${reason}): ${status.message ?? ''}`;
}
