// cluster up's progress display: plain lines (one per finished step, nothing else) when the output
// is not a terminal; on a terminal a live line rewritten in place that ends as a check mark.

import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { Progress } from '../src/cluster/progress.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (c: string) => (text += c));
  return { stream, text: () => text };
}

describe('cluster up progress', () => {
  test('not a terminal: the finished steps and notes as plain lines, no escape codes', () => {
    const out = capture();
    const progress = new Progress(out.stream, false);
    progress.begin('masters up');
    progress.note('master 1 starting (pid 7)');
    progress.done('masters up: all answer on their API ports');
    progress.begin('leader elected');
    progress.fail('leader elected');
    expect(out.text()).toBe('master 1 starting (pid 7)\nmasters up: all answer on their API ports\nfailed: leader elected\n');
  });

  test('a terminal: the step is drawn with a spinner, cleared for notes, and ends as a check mark with its time', () => {
    const out = capture();
    const progress = new Progress(out.stream, true);
    progress.begin('masters up');
    progress.note('master 1 starting (pid 7)');
    progress.done('masters up: all answer');
    const text = out.text();
    expect(text).toMatch(/^\r\x1b\[K\x1b\[36m.\x1b\[0m masters up… /);
    expect(text).toContain('\r\x1b[K  master 1 starting (pid 7)\n');
    expect(text).toMatch(/\r\x1b\[K\x1b\[32m✓\x1b\[0m masters up: all answer \x1b\[2m\(\d+\.\d s\)\x1b\[0m\n$/);
  });
});
