// Which master the next attempt goes to: the leader when an answer named it, otherwise the
// current endpoint of the configured list, moving on when one fails. Any master serves any
// request (followers forward), so this is about saving a hop and skipping dead masters.

import assert from 'node:assert/strict';
import { invalidOption } from './errors.js';

/** The origin of an endpoint URL (`http://127.0.0.1:6441`); throws InvalidOption naming `option` for anything else. */
export function normalizeEndpoint(endpoint: string, option: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalidOption(option, `${JSON.stringify(endpoint)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOption(option, `${JSON.stringify(endpoint)} is not http: or https:`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalidOption(option, `${JSON.stringify(endpoint)} must be a bare origin such as http://127.0.0.1:6441`);
  }
  return url.origin;
}

export class EndpointSet {
  private readonly endpoints: readonly string[];
  /** Index of the endpoint used while no leader is known. */
  private currentIndex = 0;
  /** The leader the last answer named; always one of `endpoints`. */
  private leader: string | undefined;

  constructor(endpoints: readonly string[]) {
    assert.ok(endpoints.length > 0, 'EndpointSet needs at least one endpoint');
    this.endpoints = Object.freeze([...new Set(endpoints)]);
  }

  all(): readonly string[] {
    return this.endpoints;
  }

  count(): number {
    return this.endpoints.length;
  }

  leaderHint(): string | undefined {
    return this.leader;
  }

  /** The endpoint for the next attempt. */
  pick(): string {
    return this.leader ?? (this.endpoints[this.currentIndex] as string);
  }

  /**
   * Notes the leader an answer named (`x-raftplane-leader`). A name outside the configured list is
   * ignored: a header must not be able to send the bearer token to an address nobody configured.
   */
  noteLeader(header: string | undefined): void {
    if (header === undefined || header === '') return;
    let origin: string;
    try {
      origin = new URL(header).origin;
    } catch {
      return;
    }
    if (this.endpoints.includes(origin)) this.leader = origin;
  }

  /** `endpoint` did not answer or said 503: stop preferring it, and move the rotation past it. */
  markFailed(endpoint: string): void {
    if (this.leader === endpoint) this.leader = undefined;
    if (this.endpoints[this.currentIndex] === endpoint) this.currentIndex = (this.currentIndex + 1) % this.endpoints.length;
  }
}
