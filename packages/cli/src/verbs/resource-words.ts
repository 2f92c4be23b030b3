// Resource names as the command line gives them (`po`, `deploy`, `deployments.apps`, `Pod`), with
// kubectl's error for an unknown one, plus the closest served name when there is a likely one.

import { resolveResource, resources, type ResourceInfo } from '@raftplane/api';
import { CliError, CliErrorCode } from '../errors.js';

/** Levenshtein distance, small strings only. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The served name closest to `word` (plural, singular or short name), if one is close enough to be a typo. */
export function closestResource(word: string): string | undefined {
  const lower = word.toLowerCase().split('.')[0] ?? '';
  let best: { name: string; distance: number } | undefined;
  for (const info of resources) {
    if (info.resource.includes('/')) continue;
    for (const candidate of [info.resource, info.singular, ...info.shortNames]) {
      const distance = editDistance(lower, candidate);
      if (best === undefined || distance < best.distance) best = { name: info.resource, distance };
    }
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(2, Math.floor(lower.length / 3)) ? best.name : undefined;
}

export function unknownResourceError(word: string): CliError {
  const suggestion = closestResource(word);
  return new CliError(CliErrorCode.UnknownResource, `the server doesn't have a resource type "${word}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`);
}

/** The resource a word names; throws kubectl's error with a suggestion for an unknown one. */
export function resourceFromWord(word: string): ResourceInfo {
  const info = resolveResource(word);
  if (info === undefined || info.resource.includes('/')) throw unknownResourceError(word);
  return info;
}

/**
 * kubectl's resource arguments: `pods`, `pods web-1 web-2`, `pod/web-1 deploy/web`, `pods,svc`.
 * Returns (resource, name?) pairs in order.
 */
export function parseResourceArgs(args: readonly string[]): { info: ResourceInfo; name: string | undefined }[] {
  if (args.length === 0) return [];
  if (args.every((a) => a.includes('/'))) {
    return args.map((arg) => {
      const slash = arg.indexOf('/');
      const name = arg.slice(slash + 1);
      if (name === '') throw new CliError(CliErrorCode.InvalidArgument, `arguments in resource/name form must have a name: ${JSON.stringify(arg)}`);
      return { info: resourceFromWord(arg.slice(0, slash)), name };
    });
  }
  if (args.some((a) => a.includes('/'))) throw new CliError(CliErrorCode.InvalidArgument, `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'raftplane get resource/<resource_name>' instead of 'raftplane get resource resource/<resource_name>')`);
  const [kinds = '', ...names] = args;
  const infos = kinds.split(',').map(resourceFromWord);
  if (names.length === 0) return infos.map((info) => ({ info, name: undefined }));
  if (infos.length > 1) throw new CliError(CliErrorCode.InvalidArgument, `names cannot be given with several resource types (${kinds}): use type/name pairs`);
  return names.map((name) => ({ info: infos[0] as ResourceInfo, name }));
}
