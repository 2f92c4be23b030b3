// The progress of `cluster up`: on a terminal, one live line per step (a spinner and the seconds
// so far, rewritten in place) that becomes a check mark and the result; otherwise plain lines, one
// per finished step, so that logs and tests read the same words.

import type { Writable } from 'node:stream';

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** How often the live line is redrawn. */
const redrawMs = 120;

export class Progress {
  private step: string | null = null;
  private stepStartedAt = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: Writable,
    private readonly live: boolean,
  ) {}

  /** Starts a step: "leader elected" is shown as "waiting: leader elected…" until it ends. */
  begin(step: string): void {
    this.clearLine();
    this.step = step;
    this.stepStartedAt = Date.now();
    if (!this.live) return;
    this.draw();
    this.timer ??= setInterval(() => this.draw(), redrawMs);
    this.timer.unref();
  }

  /** Ends the current step with its result line. */
  done(line: string): void {
    const seconds = ((Date.now() - this.stepStartedAt) / 1000).toFixed(1);
    this.clearLine();
    this.out.write(this.live ? `\x1b[32m✓\x1b[0m ${line} \x1b[2m(${seconds} s)\x1b[0m\n` : `${line}\n`);
    this.end();
  }

  fail(line: string): void {
    this.clearLine();
    this.out.write(this.live ? `\x1b[31m✗\x1b[0m ${line}\n` : `failed: ${line}\n`);
    this.end();
  }

  /** A line between steps (a master starting, a file written). */
  note(line: string): void {
    this.clearLine();
    this.out.write(`${this.live ? '  ' : ''}${line}\n`);
    if (this.live && this.step !== null) this.draw();
  }

  private end(): void {
    this.step = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private draw(): void {
    if (this.step === null) return;
    const seconds = ((Date.now() - this.stepStartedAt) / 1000).toFixed(1);
    this.frame = (this.frame + 1) % frames.length;
    this.out.write(`\r\x1b[K\x1b[36m${frames[this.frame]}\x1b[0m ${this.step}… \x1b[2m${seconds} s\x1b[0m`);
  }

  private clearLine(): void {
    if (this.live && this.step !== null) this.out.write('\r\x1b[K');
  }
}
