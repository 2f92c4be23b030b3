// The kubectl-like verbs of `raftplane` (issue 9), by name, and how one runs: its failure is
// printed as one line (kubectl's wording, see api-errors.ts) and exit code 1.

import { describeCliFailure } from './api-errors.js';
import { readVerbs } from './read-verbs.js';
import { SessionFailure, type VerbIO } from './session.js';
import { writeVerbs } from './write-verbs.js';

export const verbs = { ...readVerbs, ...writeVerbs };

export function isVerb(name: string): boolean {
  return Object.hasOwn(verbs, name);
}

/** Runs verb `name`; never throws: failures are printed to io.stderr and give exit code 1. */
export async function runVerb(name: string, argv: readonly string[], io: VerbIO): Promise<number> {
  const verb = verbs[name];
  if (verb === undefined) throw new Error(`no verb ${name}`);
  try {
    return await verb(argv, io);
  } catch (error) {
    const failure = error instanceof SessionFailure ? error.failure : error;
    const servers = error instanceof SessionFailure ? error.servers : [];
    io.stderr.write(`${describeCliFailure(failure, servers)}\n`);
    return 1;
  }
}
