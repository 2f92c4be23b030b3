// The parser for the string form of label selectors, as k8s.io/apimachinery/pkg/labels/selector.go
// reads it: `a=b,c!=d,e in (x,y),f notin (z),g,!h`, plus `==`, `a>1` and `a<1`. A lexer cuts
// the text into tokens that remember their offset, so every error names the position.

import {
  LabelSelectorError,
  everythingLabelSelector,
  labelKeyProblem,
  labelRequirement,
  labelSelectorCharsMax,
  labelSelectorOf,
  labelValueProblem,
  type LabelOperator,
  type LabelRequirement,
  type ParsedLabelSelector,
} from './labels.js';

type TokenKind = 'identifier' | 'end' | ',' | '=' | '==' | '!=' | '!' | '(' | ')' | '>' | '<';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Offset of the token's first character in the selector string. */
  readonly offset: number;
}

const symbols: readonly TokenKind[] = ['!=', '==', '=', '!', '(', ')', ',', '>', '<'];
const specialChars = new Set(['=', '!', '(', ')', ',', '>', '<']);
const whitespace = new Set([' ', '\t', '\r', '\n']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  while (offset < text.length) {
    const char = text[offset] ?? '';
    if (whitespace.has(char)) {
      offset += 1;
      continue;
    }
    if (specialChars.has(char)) {
      const symbol = symbols.find((candidate) => text.startsWith(candidate, offset));
      if (symbol === undefined) throw new LabelSelectorError(`label selector ${JSON.stringify(text)}: unexpected '${char}' at offset ${offset}`);
      tokens.push({ kind: symbol, text: symbol, offset });
      offset += symbol.length;
      continue;
    }
    const start = offset;
    while (offset < text.length && !whitespace.has(text[offset] ?? '') && !specialChars.has(text[offset] ?? '')) offset += 1;
    tokens.push({ kind: 'identifier', text: text.slice(start, offset), offset: start });
  }
  tokens.push({ kind: 'end', text: 'end of string', offset: text.length });
  return tokens;
}

/** A recursive-descent parser over the token list; `index` only moves forward. */
class Parser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    if (this.peek().kind === 'end') return requirements;
    for (;;) {
      const start = this.peek();
      if (start.kind !== 'identifier' && start.kind !== '!') this.fail(start, "!, identifier, or 'end of string'");
      requirements.push(this.requirement());
      const after = this.next();
      if (after.kind === 'end') return requirements;
      if (after.kind !== ',') this.fail(after, "',' or 'end of string'");
      const following = this.peek();
      if (following.kind !== 'identifier' && following.kind !== '!') this.fail(following, "identifier after ','");
    }
  }

  private requirement(): LabelRequirement {
    const negated = this.peek().kind === '!';
    if (negated) this.next();
    const keyToken = this.next();
    if (keyToken.kind !== 'identifier') this.fail(keyToken, 'identifier');
    const after = this.peek().kind;
    if (negated || after === ',' || after === 'end') return this.build(keyToken, negated ? '!' : 'exists', []);
    const operator = this.operator();
    if (operator === 'in' || operator === 'notin') return this.build(keyToken, operator, this.valueSet(keyToken.text));
    return this.build(keyToken, operator, [this.exactValue()]);
  }

  /** labels.NewRequirement's checks; the error points at the bad value if there is one, else at the key. */
  private build(keyToken: Token, operator: LabelOperator, valueTokens: Token[]): LabelRequirement {
    try {
      return labelRequirement(keyToken.text, operator, valueTokens.map((token) => token.text));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const badValue = labelKeyProblem(keyToken.text) === undefined ? valueTokens.find((token) => labelValueProblem(token.text) !== undefined) : undefined;
      const offset = (badValue ?? keyToken).offset;
      throw new LabelSelectorError(`label selector ${JSON.stringify(this.text)} at offset ${offset}: ${reason}`);
    }
  }

  private operator(): LabelOperator {
    const token = this.next();
    switch (token.kind) {
      case '=':
      case '==':
      case '!=':
        return token.kind;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      case 'identifier':
        if (token.text === 'in' || token.text === 'notin') return token.text;
    }
    return this.fail(token, "one of '=', '==', '!=', 'in', 'notin', '>', '<'");
  }

  /** The value after `=`, `==`, `!=`, `>` or `<`; empty when the term ends there (`a=`). */
  private exactValue(): Token {
    const token = this.peek();
    if (token.kind === 'end' || token.kind === ',') return { kind: 'identifier', text: '', offset: token.offset };
    if (token.kind !== 'identifier') this.fail(token, 'identifier');
    this.next();
    return token;
  }

  /** `(x,y)`; empty members are the empty value, as in Kubernetes (`(,x)`, `(x,)`). */
  private valueSet(key: string): Token[] {
    const open = this.next();
    if (open.kind !== '(') this.fail(open, `'(' after 'in'/'notin' for "${key}"`);
    const values: Token[] = [];
    const empty = (at: Token): Token => ({ kind: 'identifier', text: '', offset: at.offset });
    let expectValue = true;
    for (;;) {
      const token = this.next();
      if (token.kind === ')') {
        if (expectValue && values.length > 0) values.push(empty(token));
        return values;
      }
      if (token.kind === ',') {
        if (expectValue) values.push(empty(token));
        expectValue = true;
        continue;
      }
      if (token.kind !== 'identifier' || !expectValue) this.fail(token, expectValue ? "',', ')' or identifier" : "',' or ')'");
      values.push(token);
      expectValue = false;
    }
  }

  private peek(): Token {
    const token = this.tokens[this.index];
    if (token === undefined) throw new Error(`label selector parser read past the end token at ${this.index}`);
    return token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private fail(token: Token, expected: string): never {
    const found = token.kind === 'end' ? 'end of string' : `'${token.text}'`;
    throw new LabelSelectorError(`label selector ${JSON.stringify(this.text)} at offset ${token.offset}: found ${found}, expected: ${expected}`);
  }
}

/**
 * labels.Parse: the empty (or all-whitespace) string selects everything. Throws LabelSelectorError
 * with the offset and what was expected there.
 */
export function parseLabelSelector(text: string): ParsedLabelSelector {
  if (text.length > labelSelectorCharsMax) {
    throw new LabelSelectorError(`label selector is ${text.length} characters, more than ${labelSelectorCharsMax}`);
  }
  const requirements = new Parser(text, tokenize(text)).parse();
  return requirements.length === 0 ? everythingLabelSelector : labelSelectorOf(requirements);
}
