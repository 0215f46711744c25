// Training progress on the terminal. On a TTY one status line is redrawn in place (bar, count,
// speed, ETA, the caller's fields), cut to the terminal's width, with log lines printed above it.
// Anywhere else (a log file, CI) it writes plain lines with no control characters, at most one per
// interval plus the last iteration, so that a long run leaves a readable log. Create it just before
// the loop: on a TTY it draws at once, and other writes to the terminal would land inside its line.

export interface ProgressStream { write(s: string): boolean; isTTY?: boolean; columns?: number }

export interface ProgressOptions {
  total: number;
  /** The iteration a resumed run starts from: a TTY shows it from the moment of creation. */
  start?: number;
  stream?: NodeJS.WriteStream | ProgressStream;
  /** Least time between plain lines when the stream is not a TTY. Default 10 s. */
  intervalMs?: number;
  label?: string;
  /** Clock in milliseconds; tests pass a fake one. */
  now?: () => number;
}

export interface Progress {
  /**
   * Reports that `iteration` is finished. Numbers print to 4 significant digits; `lambda` prints
   * as λ and `maskFraction` (0–1) as `mask` in percent; strings print as they are.
   */
  update(iteration: number, fields: Record<string, number | string>): void;
  /** A line of its own, above the status line on a TTY. */
  log(line: string): void;
  /** Leaves the last status on screen and prints `summary` under it. */
  done(summary?: string): void;
}

/** Speed is measured over about this much recent time, so that it follows slowdowns (validation, thermal). */
const RATE_WINDOW_MS = 30_000;
/** A TTY redraw costs a write per call; faster iterations than this are not all drawn. */
const TTY_REDRAW_MS = 100;
const SAMPLE_MS = 50;
const CLEAR_LINE = '\r\x1b[2K';

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 1e4) return String(Math.round(v));
  if (Math.abs(v) < 1e-4) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(4)));
}

/** h:mm:ss; '-:--:--' when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-:--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

// Control characters in a caller's string would break the redraw or the plain log.
const clean = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
const plain = (s: string) => s.split('\n').map(clean).join('\n');

function formatFields(fields: Record<string, number | string>): string {
  return Object.entries(fields).map(([k, v]) => {
    if (k === 'maskFraction' && typeof v === 'number') return `mask ${Number.isFinite(v) ? `${Math.round(v * 100)}%` : v}`;
    const name = k === 'lambda' ? 'λ' : clean(k);
    return `${name} ${typeof v === 'number' ? formatNumber(v) : clean(v)}`;
  }).join(' ');
}

export function createProgress(opts: ProgressOptions): Progress {
  const { total } = opts;
  if (!(total > 0) || !Number.isFinite(total)) throw new Error(`voxgrad: progress: total must be a positive number, got ${total}`);
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 10_000;
  const label = opts.label ? `${clean(opts.label)} ` : '';

  // The first sample is the first update: the time before it (start-up, compiling kernels, the
  // first iteration's allocations) says nothing about the speed of the rest.
  const samples: { it: number; t: number }[] = [];
  let state: { iteration: number; fields: Record<string, number | string> } | undefined;
  let shown = false; // a TTY status line is on screen
  let printed = true; // the latest state has been written out
  let lastWrite = -Infinity;
  let finished = false;
  const start = opts.start ?? 0;

  const rate = () => {
    if (samples.length < 2) return NaN;
    const a = samples[0], b = samples[samples.length - 1];
    return b.t > a.t ? ((b.it - a.it) * 1000) / (b.t - a.t) : NaN;
  };

  const render = (barWidth: number) => {
    const { iteration, fields } = state!;
    const r = rate();
    const eta = formatDuration((total - iteration) / r);
    const speed = `${Number.isFinite(r) ? formatNumber(Number(r.toPrecision(3))) : '-'} it/s`;
    const f = formatFields(fields);
    const tail = `${speed} ETA ${eta}${f ? `  ${f}` : ''}`;
    if (barWidth === 0) return `${label}${iteration}/${total} (${Math.floor((100 * iteration) / total)}%) ${tail}`;
    const filled = Math.round(Math.min(Math.max(iteration / total, 0), 1) * barWidth);
    return `${label}[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${iteration}/${total} ${tail}`;
  };

  const statusLine = () => {
    const columns = stream.columns && stream.columns > 0 ? stream.columns : 80;
    // One column short of the width: writing the last column makes some terminals wrap.
    return [...render(columns < 60 ? 10 : 20)].slice(0, columns - 1).join('');
  };

  const write = () => {
    stream.write(tty ? CLEAR_LINE + statusLine() : render(0) + '\n');
    shown = tty;
    printed = true;
    lastWrite = now();
  };

  // A TTY shows where the run stands while its first, slowest iteration runs.
  if (tty) { state = { iteration: start, fields: {} }; write(); }

  return {
    update(iteration, fields) {
      if (finished) return;
      const t = now();
      // Samples closer than SAMPLE_MS merge, which bounds the window's length at any speed.
      if (samples.length >= 2 && t - samples[samples.length - 2].t < SAMPLE_MS) samples[samples.length - 1] = { it: iteration, t };
      else samples.push({ it: iteration, t });
      while (samples.length > 2 && t - samples[1].t >= RATE_WINDOW_MS) samples.shift();
      state = { iteration, fields };
      printed = false;
      const last = iteration >= total;
      if (last || t - lastWrite >= (tty ? TTY_REDRAW_MS : interval)) write();
    },
    log(line) {
      if (tty && shown && !finished) {
        stream.write(`${CLEAR_LINE}${line}\n${statusLine()}`);
      } else {
        stream.write(`${tty ? line : plain(line)}\n`);
      }
    },
    done(summary) {
      if (finished) return;
      finished = true;
      if (state && (tty || !printed)) write();
      if (shown) stream.write('\n');
      shown = false;
      if (summary !== undefined) stream.write(`${tty ? summary : plain(summary)}\n`);
    },
  };
}
