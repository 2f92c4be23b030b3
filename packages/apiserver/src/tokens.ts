// Bearer tokens from a static token file in kube-apiserver's `--token-auth-file` format: one user
// per line, `token,user,uid,"group1,group2"` (groups optional); blank lines and `#` comments skipped.

import { readFile } from 'node:fs/promises';
import type { UserInfo } from './authz.js';

export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

/** Splits one CSV line: commas separate, double quotes group (a doubled quote is a quote). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw new TokenFileError('a quoted field is not closed');
  fields.push(field);
  return fields;
}

export function parseTokenFile(text: string, source: string): Map<string, UserInfo> {
  const users = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${i + 1}`;
    let fields: string[];
    try {
      fields = csvFields(line);
    } catch (error) {
      throw new TokenFileError(`${where}: ${(error as Error).message}`);
    }
    const [token, name, uid, groups] = fields.map((f) => f.trim());
    if (!token || !name || uid === undefined || uid === '') throw new TokenFileError(`${where}: expected token,user,uid[,"group1,group2"], got ${fields.length} field(s)`);
    if (token.length < 16) throw new TokenFileError(`${where}: the token of user ${name} is shorter than 16 characters`);
    if (users.has(token)) throw new TokenFileError(`${where}: the token of user ${name} is used twice`);
    users.set(token, { name, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter((g) => g !== '') : [] });
  });
  if (users.size === 0) throw new TokenFileError(`${source}: no tokens: a token file must name at least one user`);
  return users;
}

export async function loadTokenFile(file: string): Promise<Map<string, UserInfo>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TokenFileError(`token file ${file}: cannot be read (${(error as Error).message})`);
  }
  return parseTokenFile(text, file);
}

/** The user a request authenticates as: null for a missing or unknown token. */
export type Authenticator = (authorization: string | undefined, protocols?: string | undefined) => UserInfo | null;

/** Everyone is the admin: for a cluster configured without a token file. */
export const anonymousAdmin: UserInfo = Object.freeze({ name: 'system:anonymous', uid: '', groups: Object.freeze(['system:masters', 'system:unauthenticated']) });

const websocketTokenProtocol = 'base64url.bearer.authorization.k8s.io.';

export function tokenAuthenticator(users: ReadonlyMap<string, UserInfo> | null): Authenticator {
  return (authorization, protocols) => {
    if (users === null) return anonymousAdmin;
    let token: string | undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (match !== null) token = match[1];
    // Browsers cannot set headers on a WebSocket: Kubernetes takes the token from a subprotocol.
    if (token === undefined && protocols !== undefined) {
      const offered = protocols.split(',').map((p) => p.trim()).find((p) => p.startsWith(websocketTokenProtocol));
      if (offered !== undefined) token = Buffer.from(offered.slice(websocketTokenProtocol.length), 'base64url').toString('utf8');
    }
    return token === undefined ? null : (users.get(token) ?? null);
  };
}
