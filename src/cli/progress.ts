// A progress line on the terminal for long work: rewritten in place on
// standard error, only when that is a TTY and the output is not --json;
// cleared before the result is printed.
export class ProgressLine {
  private last = '';
  private readonly t0 = Date.now();
  constructor(readonly enabled: boolean) {}

  /** Show `text` (replacing the previous line). */
  show(text: string): void {
    if (!this.enabled) return;
    const pad = this.last.length > text.length ? ' '.repeat(this.last.length - text.length) : '';
    process.stderr.write(`\r${text}${pad}`);
    this.last = text;
  }

  /** Remove the line. */
  clear(): void {
    if (this.enabled && this.last) process.stderr.write(`\r${' '.repeat(this.last.length)}\r`);
    this.last = '';
  }

  /** Seconds since the line was created. */
  get elapsed(): number { return (Date.now() - this.t0) / 1000; }

  /** "12/40 done, 0:42 elapsed, ETA 2:20" from work units done so far. */
  counts(done: number, total: number): string {
    const e = this.elapsed;
    const eta = done > 0 && done < total ? `, ETA ${clock((e / done) * (total - done))}` : '';
    return `${done}/${total} done, ${clock(e)} elapsed${eta}`;
  }
}

/** m:ss (or h:mm:ss). */
export function clock(seconds: number): string {
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}
