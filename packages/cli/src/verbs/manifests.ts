// Reads the manifests `-f` names, as kubectl does: files, directories (their .yaml, .yml and .json
// files, sorted; subdirectories with -R), `-` for stdin, each YAML file split into documents (empty
// ones skipped) and a `kind: List` into its items. A file that cannot be read or parsed fails with
// its name and the document's number, before anything is sent to the cluster.

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CliError, CliErrorCode } from '../errors.js';

/** One object from a manifest, with where it came from (for error messages). */
export interface Manifest {
  /** The file as given (`deploy/web.yaml`), or `STDIN`. */
  readonly source: string;
  /** 1-based number of the YAML document within the source. */
  readonly document: number;
  readonly object: ManifestObject;
}

/** What every manifest must have; the rest is the server's to validate. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Bounds: a manifest set is what an operator types or keeps in a repository, not a data set. */
export const manifestLimits = Object.freeze({ fileBytesMax: 8 * 1024 * 1024, filesMax: 1_000, objectsMax: 5_000, depthMax: 32 });

const manifestExtensions = new Set(['.yaml', '.yml', '.json']);

export interface ManifestSources {
  /** The -f values in order; `-` is stdin. */
  readonly paths: readonly string[];
  /** -R: walk subdirectories too. */
  readonly recursive: boolean;
  readonly stdin: NodeJS.ReadableStream | undefined;
}

function invalid(message: string): CliError {
  return new CliError(CliErrorCode.InvalidManifest, message);
}

/** Every object the sources hold, in order (files of a directory sorted by name). */
export async function loadManifests(sources: ManifestSources): Promise<Manifest[]> {
  if (sources.paths.length === 0) throw new CliError(CliErrorCode.MissingFlag, 'must specify one of -f and -k', '-f');
  // Checked before reading: a second read of stdin would wait for ever on an ended stream.
  if (sources.paths.filter((p) => p === '-').length > 1) throw new CliError(CliErrorCode.InvalidArgument, 'stdin (-f -) can be given only once');
  const manifests: Manifest[] = [];
  for (const path of sources.paths) {
    if (path === '-') {
      manifests.push(...parseManifestText(await readStdin(sources.stdin), 'STDIN'));
    } else {
      for (const file of await manifestFiles(path, sources.recursive)) manifests.push(...parseManifestText(await readManifestFile(file), file));
    }
    if (manifests.length > manifestLimits.objectsMax) throw invalid(`more than ${manifestLimits.objectsMax} objects in the manifests: split them into several commands`);
  }
  return manifests;
}

/** The file itself, or a directory's manifest files sorted by name (walked with `recursive`). */
async function manifestFiles(path: string, recursive: boolean): Promise<string[]> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? invalid(`the path "${path}" does not exist`) : invalid(`the path "${path}" cannot be read: ${error.code ?? error.message}`);
  });
  if (!info.isDirectory()) return [path];
  const files: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > manifestLimits.depthMax) throw invalid(`${dir}: directories nested deeper than ${manifestLimits.depthMax}`);
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recursive) await walk(full, depth + 1);
      } else if (manifestExtensions.has(extname(entry.name).toLowerCase())) {
        files.push(full);
        if (files.length > manifestLimits.filesMax) throw invalid(`${path}: more than ${manifestLimits.filesMax} manifest files`);
      }
    }
  };
  await walk(path, 0);
  if (files.length === 0) throw invalid(`error reading ${path}: recognized file extensions are [.json .yaml .yml]`);
  return files;
}

async function readManifestFile(file: string): Promise<string> {
  const info = await stat(file);
  if (info.size > manifestLimits.fileBytesMax) throw invalid(`${file}: ${info.size} bytes is more than the ${manifestLimits.fileBytesMax} a manifest may have`);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw invalid(`the path "${file}" cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

async function readStdin(stdin: NodeJS.ReadableStream | undefined): Promise<string> {
  if (stdin === undefined) throw new CliError(CliErrorCode.InvalidArgument, '-f -: there is no stdin to read');
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buffer.length;
    if (bytes > manifestLimits.fileBytesMax) throw invalid(`STDIN: more than the ${manifestLimits.fileBytesMax} bytes a manifest may have`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The objects in one file's text: YAML documents (JSON is YAML), empty ones skipped, Lists
 * expanded. `source` names the file in errors, which also give the 1-based document number.
 */
export function parseManifestText(text: string, source: string): Manifest[] {
  const manifests: Manifest[] = [];
  // uniqueKeys: a key given twice is a mistake kubectl (sigs.k8s.io/yaml, strict) reports too.
  const documents = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(documents)) return manifests; // An empty stream: no documents at all.
  documents.forEach((doc, i) => {
    const document = i + 1;
    const error = doc.errors[0];
    if (error !== undefined) throw invalid(`error parsing ${source} (document ${document}): ${(error.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    for (const object of expandList(value, source, document)) manifests.push({ source, document, object });
  });
  return manifests;
}

function expandList(value: unknown, source: string, document: number): ManifestObject[] {
  const object = checkObject(value, source, document);
  if (object.kind !== 'List' || !/^(v1|List)$/.test(object.apiVersion) || !Array.isArray(object.items)) return [object];
  return (object.items as unknown[]).map((item) => checkObject(item, source, document));
}

/** kubectl's "error validating data": the fields without which no resource can be found. */
function checkObject(value: unknown, source: string, document: number): ManifestObject {
  const where = `error validating "${source}" (document ${document})`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where}: a manifest must be a mapping (an object), got ${Array.isArray(value) ? 'a list' : typeof value}`);
  const record = value as Record<string, unknown>;
  const missing = [typeof record.apiVersion === 'string' && record.apiVersion !== '' ? undefined : 'apiVersion not set', typeof record.kind === 'string' && record.kind !== '' ? undefined : 'kind not set'].filter((m) => m !== undefined);
  if (missing.length > 0) throw invalid(`${where}: error validating data: [${missing.join(', ')}]`);
  if (record.metadata === undefined || record.metadata === null) record.metadata = {};
  if (typeof record.metadata !== 'object' || Array.isArray(record.metadata)) throw invalid(`${where}: metadata must be a mapping`);
  return record as ManifestObject;
}
