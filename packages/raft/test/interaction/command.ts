// Splits a command line into its name, positional arguments and key=value options, and reads
// typed values out of them; a malformed command is a mistake in the script, reported by line.

import type { NodeId } from '../../src/index.js';

export class ScriptError extends Error {
  override readonly name = 'ScriptError';
}

export interface Command {
  readonly name: string;
  readonly positional: readonly string[];
  readonly options: ReadonlyMap<string, string>;
  readonly text: string;
}

/** Tokens are separated by spaces; "double quotes" and (parentheses) keep spaces inside one token. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  let started = false;
  for (const ch of text) {
    if (quoted) {
      current += ch;
      if (ch === '"') quoted = false;
    } else if (ch === '"') {
      quoted = true;
      started = true;
      current += ch;
    } else if (ch === '(') {
      depth++;
      started = true;
      current += ch;
    } else if (ch === ')') {
      depth--;
      current += ch;
    } else if ((ch === ' ' || ch === '\t') && depth === 0) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      started = true;
      current += ch;
    }
  }
  if (quoted) throw new ScriptError(`unterminated quote in ${JSON.stringify(text)}`);
  if (depth !== 0) throw new ScriptError(`unbalanced parentheses in ${JSON.stringify(text)}`);
  if (started) tokens.push(current);
  return tokens;
}

/** A quoted token loses its quotes (JSON escapes allowed); others are returned as they are. */
export function unquote(token: string): string {
  return token.startsWith('"') ? (JSON.parse(token) as string) : token;
}

export function parseCommand(text: string): Command {
  const tokens = tokenize(text.trim());
  const name = tokens.shift();
  if (name === undefined) throw new ScriptError('empty command');
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq > 0 && !token.startsWith('"')) {
      const key = token.slice(0, eq);
      if (options.has(key)) throw new ScriptError(`option ${key} given twice`);
      options.set(key, token.slice(eq + 1));
    } else {
      positional.push(token);
    }
  }
  return { name, positional, options, text };
}

export function parseInteger(token: string, what: string): number {
  if (!/^-?\d+$/.test(token)) throw new ScriptError(`${what} must be an integer, got ${JSON.stringify(token)}`);
  return Number(token);
}

export function parseBoolean(token: string, what: string): boolean {
  if (token === 'true') return true;
  if (token === 'false') return false;
  throw new ScriptError(`${what} must be true or false, got ${JSON.stringify(token)}`);
}

/** `3` or `(1,2,3)` or `(1 2 3)`. */
export function parseIdList(token: string, what: string): NodeId[] {
  const inner = token.startsWith('(') && token.endsWith(')') ? token.slice(1, -1) : token;
  const parts = inner.split(/[\s,]+/).filter((p) => p !== '');
  return parts.map((p) => parseInteger(p, what));
}

/** Fails on options the command does not know, so a typo never silently falls back to a default. */
export function checkOptions(cmd: Command, known: readonly string[]): void {
  for (const key of cmd.options.keys()) {
    if (!known.includes(key)) {
      const list = known.length === 0 ? 'none' : known.join(', ');
      throw new ScriptError(`${cmd.name}: unknown option ${key} (known: ${list})`);
    }
  }
}

export function checkPositionalCount(cmd: Command, min: number, max: number, usage: string): void {
  const n = cmd.positional.length;
  if (n < min || n > max) throw new ScriptError(`usage: ${usage}`);
}

/** The positional arguments as node ids, every one of them. */
export function positionalIds(cmd: Command): NodeId[] {
  return cmd.positional.flatMap((p) => parseIdList(p, `${cmd.name}: node id`));
}

export function positionalInt(cmd: Command, at: number, what: string): number {
  const token = cmd.positional[at];
  if (token === undefined) throw new ScriptError(`${cmd.name}: missing ${what}`);
  return parseInteger(token, `${cmd.name}: ${what}`);
}
