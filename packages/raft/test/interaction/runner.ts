// Runs one interaction script: executes its commands in order against a fresh environment and
// compares each command's output with the golden text after its `----`, or rewrites that text.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ScriptError, parseCommand } from './command.js';
import { diffLines } from './diff.js';
import { InteractionEnv } from './env.js';
import { handlers } from './handlers/index.js';
import { parseScript, renderScript } from './script.js';

export interface Mismatch {
  readonly line: number;
  readonly command: string;
  readonly expected: readonly string[];
  readonly actual: readonly string[];
}

export interface ScriptRun {
  readonly mismatches: readonly Mismatch[];
  /** The script with every output replaced by what the commands printed. */
  readonly rewritten: string;
}

function runCommand(env: InteractionEnv, commandText: string): string[] {
  const cmd = parseCommand(commandText);
  const handler = handlers.get(cmd.name);
  if (handler === undefined) {
    throw new ScriptError(`unknown command ${JSON.stringify(cmd.name)} (known: ${[...handlers.keys()].sort().join(', ')})`);
  }
  handler.run(env, cmd);
  return env.takeOutput();
}

export function runScript(text: string, fileName: string): ScriptRun {
  const segments = parseScript(text, fileName);
  const env = new InteractionEnv();
  const outputs: string[][] = [];
  const mismatches: Mismatch[] = [];
  for (const segment of segments) {
    if (segment.kind !== 'block') continue;
    let actual: string[];
    try {
      actual = runCommand(env, segment.commandText);
    } catch (error) {
      // A script mistake or a broken invariant in the core: there is no output to compare.
      const where = `${fileName}:${segment.line}: ${segment.commandText}`;
      if (error instanceof ScriptError) throw new Error(`${where}: ${error.message}`);
      throw new Error(`${where}: threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, {
        cause: error,
      });
    }
    outputs.push(actual);
    if (actual.join('\n') !== segment.expected.join('\n')) {
      mismatches.push({ line: segment.line, command: segment.commandText, expected: segment.expected, actual });
    }
  }
  return { mismatches, rewritten: renderScript(segments, outputs) };
}

export function describeMismatches(fileName: string, mismatches: readonly Mismatch[]): string {
  const parts = [`${fileName}: ${mismatches.length} command(s) printed something other than their golden output`];
  for (const m of mismatches) {
    parts.push(
      '',
      `${fileName}:${m.line}: ${m.command}`,
      '  (- expected, + actual)',
      ...diffLines(m.expected, m.actual).map((line) => `  ${line}`),
    );
  }
  return parts.join('\n');
}

/**
 * Runs the script at `path`. With `rewrite`, writes the actual outputs back into the file;
 * otherwise throws a readable diff when any output differs from its golden text.
 */
export function runScriptFile(path: string, options: { readonly rewrite: boolean }): void {
  const fileName = `testdata/${basename(path)}`;
  const text = readFileSync(path, 'utf8');
  const run = runScript(text, fileName);
  if (options.rewrite) {
    if (run.rewritten !== text) writeFileSync(path, run.rewritten);
    return;
  }
  if (run.mismatches.length > 0) throw new Error(describeMismatches(fileName, run.mismatches));
}
