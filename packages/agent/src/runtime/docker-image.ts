// Images on the Docker engine: is one present, pull one (reading the whole progress stream, since
// the engine answers 200 first and reports a failed pull as an error line at the end), and the
// imageID Kubernetes shows for it.

import { AgentError, AgentErrorCode } from '../errors.js';
import { engineMessage, type DockerHttp } from './docker-http.js';
import { LineDecoder } from './docker-frames.js';

export interface DockerImage {
  /** `sha256:…` */
  readonly Id: string;
  /** `repo@sha256:…` for an image pulled from a registry; empty for one built or imported here. */
  readonly RepoDigests: readonly string[] | null;
}

export interface ImageTimeouts {
  readonly callTimeoutMs: number;
  /** Longest silence in a pull's progress stream. */
  readonly pullSilenceMsMax: number;
  /** A progress line longer than this is not the engine's. */
  readonly lineBytesMax: number;
}

/** A reference Docker can parse: `[host[:port]/]path[:tag][@digest]`, no spaces or URL syntax. */
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}$/;

/** `fromImage` and `tag` for POST /images/create; no tag means `latest` (an empty one would pull every tag). */
export function pullParameters(image: string): { readonly fromImage: string; readonly tag: string } {
  const at = image.indexOf('@');
  const named = at === -1 ? image : image.slice(0, at);
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  // A ':' before the last '/' is a registry's port, not a tag.
  const hasTag = colon > slash;
  const fromImage = hasTag ? named.slice(0, colon) : named;
  const tag = digest ?? (hasTag ? named.slice(colon + 1) : 'latest');
  return { fromImage, tag };
}

export function checkReference(image: string): void {
  if (!REFERENCE.test(image)) {
    throw new AgentError(AgentErrorCode.ImagePull, `invalid image reference ${JSON.stringify(image)}`);
  }
}

/** The image, or undefined when the engine does not have it. */
export async function inspectImage(http: DockerHttp, image: string, timeoutMs: number, signal?: AbortSignal): Promise<DockerImage | undefined> {
  const answer = await http.call('GET', `/images/${image}/json`, { timeoutMs, ...(signal === undefined ? {} : { signal }) });
  if (answer.statusCode === 404) return undefined;
  const body = answer.body as Partial<DockerImage> | undefined;
  if (answer.statusCode !== 200 || typeof body?.Id !== 'string') {
    throw new AgentError(AgentErrorCode.RuntimeUnavailable, `inspecting image ${image}: ${engineMessage(answer)}`);
  }
  return { Id: body.Id, RepoDigests: Array.isArray(body.RepoDigests) ? body.RepoDigests : null };
}

/** Pulls `image`; an engine refusal or an error line in the stream is ImagePull with the engine's words. */
export async function pullImage(http: DockerHttp, image: string, timeouts: ImageTimeouts, signal: AbortSignal): Promise<void> {
  const stream = await http.stream('POST', '/images/create', {
    query: pullParameters(image),
    headersTimeoutMs: timeouts.callTimeoutMs,
    bodyTimeoutMs: timeouts.pullSilenceMsMax,
    signal,
  });
  let failure: string | undefined;
  try {
    const lines = new LineDecoder(timeouts.lineBytesMax, `pull of ${image}`);
    const text: string[] = [];
    for await (const chunk of stream.body as AsyncIterable<Buffer>) {
      for (const line of lines.push(chunk)) {
        if (stream.statusCode === 200) failure ??= pullError(line);
        else if (text.length < 16) text.push(line);
      }
    }
    const last = lines.end();
    if (stream.statusCode === 200) failure ??= pullError(last);
    else failure = engineMessage({ statusCode: stream.statusCode, body: parseJson([...text, last].join('\n')) });
  } catch (error) {
    throw http.unreachable(error, `pulling ${image}`, signal);
  } finally {
    await stream.release();
  }
  if (failure !== undefined) throw new AgentError(AgentErrorCode.ImagePull, `pulling ${image}: ${failure}`);
}

/** The message of a progress line that reports an error (`{"errorDetail":{"message":…},"error":…}`). */
function pullError(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  const event = parseJson(line) as { error?: unknown; errorDetail?: { message?: unknown } } | string | undefined;
  if (typeof event !== 'object' || event === null) return undefined;
  if (typeof event.errorDetail?.message === 'string') return event.errorDetail.message;
  if (typeof event.error === 'string') return event.error;
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Kubernetes' imageID: `docker-pullable://repo@digest` for a pulled image, else the image's own id. */
export function imageIdFor(image: DockerImage): string {
  const digest = image.RepoDigests?.[0];
  return digest === undefined ? image.Id : `docker-pullable://${digest}`;
}
