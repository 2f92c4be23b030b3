// Volume mounts for the process runtime, which has no mount namespace to put a volume at its
// mountPath: each mount becomes a symlink `<container dir>/<mountPath without its leading slash>`
// pointing at the volume's host path. A container sees `/etc/config` at `etc/config` relative to its
// working directory (by default the container dir), so programs run by the process runtime should
// use relative paths, or paths the agent passes in their environment. readOnly cannot be enforced
// (nothing stops writes through the link), and a mount nested inside another is refused, since its
// link would be written into the other volume on the host.

import { lstatSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, posix, relative, sep } from 'node:path';
import type { VolumeMount } from './runtime.js';

/** The link's path under `rootDir`, or a reason the mountPath cannot be one. */
export function mountLinkPath(rootDir: string, containerPath: string): { path: string } | { problem: string } {
  const relative = posix.normalize(containerPath.replace(/^\/+/, ''));
  if (relative === '.' || relative === '' || relative === '..' || relative.startsWith('../')) {
    return { problem: `mountPath ${JSON.stringify(containerPath)} does not name a path below /` };
  }
  if (containerPath.includes('\0')) return { problem: `mountPath ${JSON.stringify(containerPath)} holds a NUL byte` };
  return { path: join(rootDir, relative.replace(/\/+$/, '')) };
}

/**
 * Creates (or re-points, for a restarted container) one symlink per mount under `rootDir`. Throws an
 * Error naming the mount when a mount cannot be linked; links made before it stay (a retry re-points them).
 */
export function linkMounts(rootDir: string, mounts: readonly VolumeMount[]): void {
  const root = realpathSync(rootDir);
  for (const mount of mounts) {
    const link = mountLinkPath(root, mount.containerPath);
    if ('problem' in link) throw new Error(link.problem);
    makeParents(root, relative(root, dirname(link.path)), mount.containerPath);
    replaceWithSymlink(link.path, mount.hostPath, mount.containerPath);
  }
}

/**
 * Creates the link's parent directories one by one below `root`, refusing to pass through a
 * symlink: that is another mount's link, and a directory made through it would be made inside that
 * volume on the host.
 */
function makeParents(root: string, relativeDir: string, containerPath: string): void {
  let dir = root;
  for (const part of relativeDir === '' ? [] : relativeDir.split(sep)) {
    dir = join(dir, part);
    const stat = lstatOrUndefined(dir);
    if (stat === undefined) mkdirSync(dir);
    else if (stat.isSymbolicLink()) throw new Error(`mountPath ${containerPath} is inside another volume mount; the process runtime cannot nest mounts`);
    else if (!stat.isDirectory()) throw new Error(`mountPath ${containerPath}: ${dir} is not a directory`);
  }
}

function replaceWithSymlink(path: string, target: string, containerPath: string): void {
  const existing = lstatOrUndefined(path);
  if (existing !== undefined && !existing.isSymbolicLink()) {
    throw new Error(`mountPath ${containerPath}: ${path} already exists and is not a mount link`);
  }
  // A new link under a temporary name, renamed over the old one: never a moment without a link.
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
}
