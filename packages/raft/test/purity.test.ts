// The Raft core is pure (DESIGN rule 1, house rule 4): no Node builtins, no timers, no clock, no
// process, no Math.random. Each source file is parsed and its syntax tree walked, so comments and
// strings never trigger the check; a self-check proves the detector does flag offending code.
// The same inputs must also give the same outputs, checked by running one schedule twice.

import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { MessageType, seededRandom, type Message } from '../src/index.js';
import { TestCluster } from './support/cluster.js';

/** Globals that reach the clock, timers, the process, randomness or I/O. */
const bannedGlobals: ReadonlySet<string> = new Set([
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'process',
  'performance',
  'require',
  'crypto',
  'fetch',
]);
/** Objects through which a global can be reached by name. */
const globalObjects: ReadonlySet<string> = new Set(['globalThis', 'global', 'window', 'self']);
const builtins: ReadonlySet<string> = new Set(builtinModules);

interface Finding {
  readonly line: number;
  readonly rule: 'node-module' | 'computed-module' | 'banned-global' | 'math-random';
  readonly text: string;
}

function isNodeModule(specifier: string): boolean {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0] as string);
}

/** Whether `node` names a property or member rather than referring to a variable. */
function isMemberName(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent)) return parent.name === node;
  if (ts.isQualifiedName(parent)) return parent.right === node;
  if (
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent) ||
    ts.isPropertySignature(parent) ||
    ts.isMethodDeclaration(parent) ||
    ts.isMethodSignature(parent) ||
    ts.isGetAccessorDeclaration(parent) ||
    ts.isSetAccessorDeclaration(parent) ||
    ts.isEnumMember(parent)
  ) {
    return parent.name === node;
  }
  return false;
}

function stringKey(node: ts.Expression): string | null {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : null;
}

/** Every impure construct in `text`, found by walking its syntax tree. */
function findImpurities(fileName: string, text: string): Finding[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const report = (node: ts.Node, rule: Finding['rule']): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    findings.push({ line, rule, text: node.getText(source) });
  };
  const checkSpecifier = (node: ts.Node, specifier: ts.Expression | undefined): void => {
    if (specifier === undefined) return;
    const name = stringKey(specifier);
    if (name === null) report(node, 'computed-module');
    else if (isNodeModule(name)) report(node, 'node-module');
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      checkSpecifier(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      checkSpecifier(node, node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      checkSpecifier(node, node.argument.literal as ts.Expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) checkSpecifier(node, node.arguments[0] ?? callee);
    } else if (ts.isIdentifier(node)) {
      if (bannedGlobals.has(node.text) && !isMemberName(node)) report(node, 'banned-global');
    } else if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
      const target = node.expression;
      const key = ts.isPropertyAccessExpression(node) ? node.name.text : stringKey(node.argumentExpression);
      if (ts.isIdentifier(target) && key !== null) {
        if (target.text === 'Math' && key === 'random') report(node, 'math-random');
        if (globalObjects.has(target.text) && bannedGlobals.has(key)) report(node, 'banned-global');
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

/** Every module specifier imported or re-exported by `text`. */
function importedModules(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const modules: string[] = [];
  ts.forEachChild(source, (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
      modules.push(stringKey(node.moduleSpecifier) ?? '(computed)');
    }
  });
  return modules;
}

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
const sourceFiles = readdirSync(srcDir)
  .filter((name) => name.endsWith('.ts'))
  .sort()
  .map((name) => ({ name, text: readFileSync(srcDir + name, 'utf8') }));

describe('the detector (self-check)', () => {
  it.each([
    { code: `import { readFileSync } from 'node:fs';`, rule: 'node-module' },
    { code: `import fs from 'fs';`, rule: 'node-module' },
    { code: `import { setTimeout as wait } from 'timers/promises';`, rule: 'node-module' },
    { code: `export { createHash } from 'crypto';`, rule: 'node-module' },
    { code: `import type { Socket } from 'net';`, rule: 'node-module' },
    { code: `import os = require('os');`, rule: 'node-module' },
    { code: `const m = await import('node:worker_threads');`, rule: 'node-module' },
    { code: `const name = 'fs'; const m = await import(name);`, rule: 'computed-module' },
    { code: `type T = import('node:stream').Readable;`, rule: 'node-module' },
    { code: `const now = Date.now();`, rule: 'banned-global' },
    { code: `const d = new Date();`, rule: 'banned-global' },
    { code: `setTimeout(() => {}, 10);`, rule: 'banned-global' },
    { code: `const h = setInterval(tick, 100);`, rule: 'banned-global' },
    { code: `setImmediate(run);`, rule: 'banned-global' },
    { code: `queueMicrotask(run);`, rule: 'banned-global' },
    { code: `const env = process.env.DEBUG;`, rule: 'banned-global' },
    { code: `const t = performance.now();`, rule: 'banned-global' },
    { code: `const x = { process };`, rule: 'banned-global' },
    { code: `globalThis.setTimeout(run, 1);`, rule: 'banned-global' },
    { code: `globalThis['Date'].now();`, rule: 'banned-global' },
    { code: `const r = Math.random();`, rule: 'math-random' },
    { code: `const r = Math['random']();`, rule: 'math-random' },
    { code: `const r = require('fs');`, rule: 'node-module' },
  ])('flags $code as $rule', ({ code, rule }) => {
    const rules = findImpurities('bad.ts', code).map((f) => f.rule);
    expect(rules).toContain(rule);
  });

  it('does not flag comments, strings, member names or harmless Math', () => {
    const code = [
      '// Date.now(), setTimeout and Math.random() are banned; process is too.',
      '/* import fs from "node:fs" */',
      `const text = 'setTimeout(process.exit)';`,
      'const status = { process: 1, Date: 2 };',
      'status.process += 1;',
      'interface Clock { performance: number; setTimeout(): void }',
      'const bigger = Math.max(1, Math.floor(2.5));',
      `import { seededRandom } from './random.js';`,
    ].join('\n');
    expect(findImpurities('good.ts', code)).toEqual([]);
  });

  it('reports the line of each finding', () => {
    const findings = findImpurities('bad.ts', ['const a = 1;', '', 'const b = Date.now();'].join('\n'));
    expect(findings).toEqual([{ line: 3, rule: 'banned-global', text: 'Date' }]);
  });
});

describe('packages/raft/src is pure (DESIGN rule 1)', () => {
  it('finds the sources to check', () => {
    const names = sourceFiles.map((f) => f.name);
    expect(names).toContain('raft.ts');
    expect(names).toContain('raw-node.ts');
    expect(names.length).toBeGreaterThanOrEqual(10);
  });

  it.each(sourceFiles.map((f) => [f.name, f] as const))('%s uses no Node builtin, timer, clock, process or Math.random', (_name, file) => {
    expect(findImpurities(file.name, file.text)).toEqual([]);
  });

  it.each(sourceFiles.map((f) => [f.name, f] as const))('%s imports only modules of the core itself', (_name, file) => {
    for (const specifier of importedModules(file.name, file.text)) expect(specifier).toMatch(/^\.\/[a-z-]+\.js$/);
  });
});

describe('the core is deterministic (DESIGN rule 1)', () => {
  function encode(m: Message): string {
    return JSON.stringify(m, (_key, value: unknown) => (value instanceof Uint8Array ? Array.from(value) : value));
  }

  /** A seeded schedule of ticks, proposals, partitions and restarts; returns everything delivered. */
  function run(seed: number): string[] {
    const random = seededRandom(seed);
    const cluster = TestCluster.ofSize(5);
    for (let step = 0; step < 300; step++) {
      const roll = random.int(100);
      if (roll < 5) {
        cluster.heal();
        cluster.isolate(random.int(5) + 1);
      } else if (roll < 8) {
        const id = random.int(5) + 1;
        cluster.crash(id);
        cluster.restart(id);
      } else if (roll < 30) {
        const leader = cluster.leader();
        if (leader !== null) cluster.propose(leader.id, `w${step}`);
      }
      cluster.tickAll();
    }
    return cluster.delivered.map(encode);
  }

  it('the same seed and inputs give the same messages, message for message', () => {
    const first = run(2024);
    const second = run(2024);
    expect(first.length).toBeGreaterThan(100);
    expect(first.some((m) => m.includes(`"type":${MessageType.App}`))).toBe(true);
    expect(second).toEqual(first);
  });

  it('seededRandom repeats its stream for a seed and stays within its bound', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const drawsA = Array.from({ length: 50 }, () => a.int(1000));
    const drawsB = Array.from({ length: 50 }, () => b.int(1000));
    const drawsC = Array.from({ length: 50 }, () => c.int(1000));
    expect(drawsB).toEqual(drawsA);
    expect(drawsC).not.toEqual(drawsA);
    for (const d of drawsA) expect(d >= 0 && d < 1000 && Number.isInteger(d)).toBe(true);
    expect(() => a.int(0)).toThrow(RangeError);
  });
});
