// Durations on the command line, as Kubernetes components spell them: `15s`, `1500ms`, `1m`,
// `1m30s`, `0.5s`. A bare number is refused: its unit would be a guess.

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds in `text`, or null when it is not a duration. Rounded to whole milliseconds. */
export function parseDurationMs(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let totalMs = 0;
  let offset = 0;
  while (offset < trimmed.length) {
    part.lastIndex = offset;
    const match = part.exec(trimmed);
    if (match === null) return null;
    totalMs += Number(match[1]) * unitMs[match[2]!]!;
    offset = part.lastIndex;
  }
  const rounded = Math.round(totalMs);
  return Number.isSafeInteger(rounded) ? rounded : null;
}

/** `15000` -> `15s`, `1500` -> `1500ms`: how --help shows a default. */
export function formatDurationMs(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}
