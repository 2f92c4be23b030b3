// kubectl's JSONPath templates (`-o jsonpath=`, `-o custom-columns=`, `--sort-by`), the part
// people use: `{.a.b}`, `['a.b']`, `[0]`, `[-1]`, `[*]`, filters `[?(@.type=="Ready")]`,
// `{range .items[*]}...{end}` and `{"\n"}`. A missing key prints nothing, as kubectl's default
// (--allow-missing-template-keys=true). An expression is parsed once and evaluated per object.

import { CliError, CliErrorCode } from '../errors.js';

type Segment =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'all' }
  | { readonly kind: 'filter'; readonly path: readonly Segment[]; readonly operator: FilterOperator | undefined; readonly value: string | number | undefined };

type FilterOperator = '==' | '!=' | '<' | '>' | '<=' | '>=';

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'path'; readonly path: readonly Segment[] }
  | { readonly kind: 'range'; readonly path: readonly Segment[]; readonly body: Part[] };

export interface JsonPathTemplate {
  readonly parts: readonly Part[];
}

/** Longest template accepted: a bound on the parser's work for a typo'd flag. */
const templateCharsMax = 4_096;

function syntaxError(template: string, problem: string): CliError {
  return new CliError(CliErrorCode.InvalidFlag, `error parsing jsonpath ${template}: ${problem}`, '--output');
}

/** Parses `.a['b'][0][*][?(@.x=="y")]` into segments; throws for anything else. */
export function parsePath(text: string, template: string): Segment[] {
  const segments: Segment[] = [];
  let at = /^[$@]/.test(text) ? 1 : 0;
  while (at < text.length) {
    const rest = text.slice(at);
    const field = /^\.([A-Za-z0-9_\-/]+)/.exec(rest);
    const quoted = /^\[\s*(['"])(.*?)\1\s*\]/.exec(rest);
    const index = /^\[\s*(-?\d+)\s*\]/.exec(rest);
    const all = /^(\[\s*\*\s*\]|\.\*)/.exec(rest);
    const filter = /^\[\s*\?\(\s*@((?:\.[A-Za-z0-9_\-/]+|\[\s*(['"]).*?\2\s*\])+)\s*(?:(==|!=|<=|>=|<|>)\s*(?:(['"])(.*?)\4|(-?\d+(?:\.\d+)?)))?\s*\)\s*\]/.exec(rest);
    if (field !== null) segments.push({ kind: 'field', name: field[1] as string });
    else if (quoted !== null) segments.push({ kind: 'field', name: quoted[2] as string });
    else if (index !== null) segments.push({ kind: 'index', index: Number(index[1]) });
    else if (all !== null) segments.push({ kind: 'all' });
    else if (filter !== null) {
      const value = filter[5] ?? (filter[6] === undefined ? undefined : Number(filter[6]));
      segments.push({ kind: 'filter', path: parsePath(filter[1] as string, template), operator: filter[3] as FilterOperator | undefined, value });
    } else if (rest === '.') break;
    else throw syntaxError(template, `unrecognized character in ${JSON.stringify(rest)}`);
    at += (field ?? quoted ?? index ?? all ?? filter)?.[0].length ?? rest.length;
  }
  return segments;
}

/** `"\n"` with kubectl's escapes. */
function literal(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

/** Parses a template such as `{range .items[*]}{.metadata.name}{"\n"}{end}`. */
export function parseJsonPath(template: string): JsonPathTemplate {
  if (template.length > templateCharsMax) throw syntaxError(template.slice(0, 40), `longer than ${templateCharsMax} characters`);
  const root: Part[] = [];
  const stack: Part[][] = [root];
  const pieces = template.split(/(\{(?:"(?:[^"\\]|\\.)*"|[^}])*\})/);
  for (const piece of pieces) {
    const body = stack[stack.length - 1] as Part[];
    if (!piece.startsWith('{') || !piece.endsWith('}')) {
      if (piece.includes('{') || piece.includes('}')) throw syntaxError(template, `unclosed action in ${JSON.stringify(piece)}`);
      if (piece !== '') body.push({ kind: 'text', text: piece });
      continue;
    }
    const inner = piece.slice(1, -1).trim();
    if (inner === 'end') {
      if (stack.length === 1) throw syntaxError(template, 'not in range, nothing to end');
      stack.pop();
    } else if (inner.startsWith('range ')) {
      const range: Part = { kind: 'range', path: parsePath(inner.slice('range '.length).trim(), template), body: [] };
      body.push(range);
      stack.push(range.body);
    } else if (/^"(?:[^"\\]|\\.)*"$/.test(inner)) body.push({ kind: 'text', text: literal(inner) });
    else body.push({ kind: 'path', path: parsePath(inner, template) });
  }
  if (stack.length > 1) throw syntaxError(template, 'unclosed range (missing {end})');
  return { parts: root };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compare(actual: unknown, operator: FilterOperator, expected: string | number): boolean {
  const a = typeof expected === 'number' ? Number(actual) : String(actual);
  switch (operator) {
    case '==':
      return a === expected;
    case '!=':
      return a !== expected;
    case '<':
      return a < expected;
    case '>':
      return a > expected;
    case '<=':
      return a <= expected;
    case '>=':
      return a >= expected;
  }
}

function step(nodes: readonly unknown[], segment: Segment): unknown[] {
  return nodes.flatMap((node): unknown[] => {
    switch (segment.kind) {
      case 'field':
        return isRecord(node) && Object.hasOwn(node, segment.name) ? [node[segment.name]] : [];
      case 'index': {
        if (!Array.isArray(node)) return [];
        const i = segment.index < 0 ? node.length + segment.index : segment.index;
        return i >= 0 && i < node.length ? [node[i]] : [];
      }
      case 'all':
        return Array.isArray(node) ? node : isRecord(node) ? Object.values(node) : [];
      case 'filter': {
        const items = Array.isArray(node) ? node : [];
        return items.filter((item) => {
          const found = evaluatePath(item, segment.path);
          if (segment.operator === undefined || segment.value === undefined) return found.length > 0;
          return found.some((value) => compare(value, segment.operator as FilterOperator, segment.value as string | number));
        });
      }
    }
  });
}

/** The values `path` selects in `value` (none when a key is missing). */
export function evaluatePath(value: unknown, path: readonly Segment[]): unknown[] {
  return path.reduce<unknown[]>((nodes, segment) => step(nodes, segment), [value]);
}

/** How kubectl prints a value: strings as they are, everything else as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function render(parts: readonly Part[], current: unknown): string {
  return parts
    .map((part) => {
      switch (part.kind) {
        case 'text':
          return part.text;
        case 'path':
          return evaluatePath(current, part.path).map(valueText).join(' ');
        case 'range':
          return evaluatePath(current, part.path).map((item) => render(part.body, item)).join('');
      }
    })
    .join('');
}

/** The template's output for `value`. */
export function executeJsonPath(template: JsonPathTemplate, value: unknown): string {
  return render(template.parts, value);
}

/** Go's `%v` of a decoded JSON value, as custom-columns prints maps and lists: `map[a:1 b:2]`, `[x y]`. */
export function goValueText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goValueText).join(' ')}]`;
  if (isRecord(value)) return `map[${Object.keys(value).sort().map((k) => `${k}:${goValueText(value[k])}`).join(' ')}]`;
  if (value === null || value === undefined) return '<nil>';
  return String(value);
}

/** The values a one-expression template (`{.a.b}`) selects, for custom-columns to join with commas; other templates give their text. */
export function templateValues(template: JsonPathTemplate, value: unknown): unknown[] {
  const [only, ...rest] = template.parts;
  if (only?.kind === 'path' && rest.length === 0) return evaluatePath(value, only.path);
  const text = executeJsonPath(template, value);
  return text === '' ? [] : [text];
}
