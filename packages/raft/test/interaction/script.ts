// Reads and writes interaction scripts: commands, each followed by `----` and its expected output,
// with comment and blank lines kept verbatim so that a rewrite changes only the outputs.

/** One command and the output it is expected to print. */
export interface ScriptBlock {
  readonly kind: 'block';
  /** 1-based line of the command in the file. */
  readonly line: number;
  readonly commandText: string;
  /** Expected output, one string per line (never empty: a silent command prints `ok`). */
  readonly expected: readonly string[];
}

/** Lines outside any block: comments (`# ...`) and blank lines, kept as they are. */
export interface ScriptText {
  readonly kind: 'text';
  readonly lines: readonly string[];
}

export type ScriptSegment = ScriptBlock | ScriptText;

export const SEPARATOR = '----';

export function parseScript(text: string, fileName: string): ScriptSegment[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the file's final newline
  const segments: ScriptSegment[] = [];
  let pendingText: string[] = [];
  const flushText = (): void => {
    if (pendingText.length > 0) segments.push({ kind: 'text', lines: pendingText });
    pendingText = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      pendingText.push(line);
      i++;
      continue;
    }
    flushText();
    const commandLine = i + 1;
    if (lines[i + 1] !== SEPARATOR) {
      throw new Error(`${fileName}:${commandLine}: expected "${SEPARATOR}" after command ${JSON.stringify(line)}`);
    }
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '') {
      expected.push(lines[i] as string);
      i++;
    }
    segments.push({ kind: 'block', line: commandLine, commandText: line, expected });
  }
  flushText();
  return segments;
}

/** The script text with each block's output replaced by `outputs[k]` (k counts blocks). */
export function renderScript(segments: readonly ScriptSegment[], outputs: readonly (readonly string[])[]): string {
  const out: string[] = [];
  let k = 0;
  for (const segment of segments) {
    if (segment.kind === 'text') {
      out.push(...segment.lines);
      continue;
    }
    out.push(segment.commandText, SEPARATOR, ...(outputs[k] ?? segment.expected));
    k++;
  }
  return `${out.join('\n')}\n`;
}
