// The training progress display, on a fake terminal and a fake log file, with a fake clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProgress, formatDuration, formatNumber } from '../cli/progress.ts';

function fakeStream(tty: boolean, columns?: number) {
  return { out: '', isTTY: tty, columns, write(s: string) { this.out += s; return true; } };
}

const REDRAW = '\r\x1b[2K';
/** What a terminal would show on the status line: the text after the last redraw. */
const statusOf = (out: string) => out.slice(out.lastIndexOf(REDRAW) + REDRAW.length);

test('numbers print to 4 significant digits, durations as h:mm:ss', () => {
  assert.is(formatNumber(0.532149), '0.5321');
  assert.is(formatNumber(0.31), '0.31');
  assert.is(formatNumber(0.0007), '0.0007');
  assert.is(formatNumber(1.23456e-5), '1.23e-5');
  assert.is(formatNumber(12345.6), '12346');
  assert.is(formatNumber(42), '42');
  assert.is(formatNumber(NaN), 'NaN');
  assert.is(formatDuration(0), '0:00:00');
  assert.is(formatDuration(59.4), '0:00:59');
  assert.is(formatDuration(3661), '1:01:01');
  assert.is(formatDuration(100 * 3600 + 5), '100:00:05');
  assert.is(formatDuration(NaN), '-:--:--');
});

test('TTY: one line redrawn in place with bar, count, speed, ETA and fields', () => {
  const stream = fakeStream(true, 200);
  let t = 0;
  const p = createProgress({ total: 100, stream, now: () => t, label: 'train' });
  assert.ok(stream.out.startsWith(REDRAW), 'the status line appears at once');
  assert.match(statusOf(stream.out), /0\/100/);
  // The first iteration takes 5 s (start-up); the next nine take 1 s each.
  t = 5000;
  p.update(1, { loss: 0.532149, ce: 0.31 });
  assert.match(statusOf(stream.out), /- it\/s ETA -:--:--/, 'no speed from one iteration');
  for (let i = 2; i <= 10; i++) {
    t += 1000;
    p.update(i, { loss: 0.532149, ce: 0.31, dice: 0.41, lr: 0.01, lambda: 0.0007, maskFraction: 0.62 });
  }
  const line = statusOf(stream.out);
  assert.ok(!line.includes('\n'));
  assert.ok(line.startsWith('train ['), line);
  assert.match(line, /\[██░{18}\] 10\/100 /, '10 % of a 20-cell bar');
  assert.match(line, / 1 it\/s ETA 0:01:30 /, 'speed from iterations 1..10 only: 9 in 9 s, 90 to go');
  assert.match(line, /loss 0\.5321 ce 0\.31 dice 0\.41 lr 0\.01 λ 0\.0007 mask 62%$/);
  assert.is(stream.out.split(REDRAW).length - 1, 11, 'a redraw per update (1 s apart) plus the first');
  assert.ok(!stream.out.includes('\n'), 'nothing scrolls');
});

test('TTY: lines are cut to the terminal width; log() prints above the bar', () => {
  const stream = fakeStream(true, 40);
  let t = 0;
  const p = createProgress({ total: 1000, stream, now: () => t });
  for (let i = 1; i <= 5; i++) { t += 500; p.update(i, { loss: 0.5, consistency: 0.25, note: 'a long field that does not fit' }); }
  for (const seg of stream.out.split(REDRAW).slice(1)) assert.ok([...seg].length <= 39, `${[...seg].length}: ${seg}`);
  const before = stream.out.length;
  p.log('validation: Dice 0.8123');
  const added = stream.out.slice(before);
  assert.ok(added.startsWith(`${REDRAW}validation: Dice 0.8123\n`), JSON.stringify(added));
  assert.match(added.slice(added.indexOf('\n') + 1), /^\[.*\] 5\/1000/, 'the status line comes back under it');
  p.done('finished in 2.5 s');
  assert.ok(stream.out.endsWith('\nfinished in 2.5 s\n'), JSON.stringify(stream.out.slice(-60)));
  p.update(6, { loss: 1 });
  assert.ok(stream.out.endsWith('finished in 2.5 s\n'), 'nothing after done()');
});

test('TTY: fast iterations are not all drawn, but the last one is', () => {
  const stream = fakeStream(true, 120);
  let t = 0;
  const p = createProgress({ total: 50, stream, now: () => t });
  for (let i = 1; i <= 50; i++) { t += 10; p.update(i, {}); }
  const draws = stream.out.split(REDRAW).length - 1;
  assert.ok(draws >= 4 && draws <= 8, `${draws} redraws in 0.5 s`);
  assert.match(statusOf(stream.out), /50\/50/);
  assert.match(statusOf(stream.out), / 100 it\/s ETA 0:00:00/);
});

test('not a TTY: plain throttled lines without control characters', () => {
  const stream = fakeStream(false);
  let t = 0;
  const p = createProgress({ total: 100, stream, now: () => t, intervalMs: 10_000, label: 'train' });
  assert.is(stream.out, '', 'nothing before the first iteration');
  for (let i = 1; i <= 100; i++) {
    t += 1000;
    p.update(i, { loss: 0.25, tag: 'ok\x1b[31m\r' });
    if (i === 50) p.log('validation\tDice 0.8\nsecond line');
  }
  const beforeDone = stream.out;
  p.done('done');
  assert.is(stream.out, `${beforeDone}done\n`, 'the last iteration was already written');
  assert.not.match(stream.out, /[\r\x1b\t]/, 'no control characters but newlines');
  const lines = stream.out.split('\n');
  assert.is(lines.pop(), '', 'ends with a newline');
  const status = lines.filter((l) => /^train \d+\/100/.test(l));
  assert.equal(status.map((l) => Number(l.match(/^train (\d+)/)![1])), [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100],
    'first, then every 10 s, and the last');
  assert.match(status[10], /^train 100\/100 \(100%\) 1 it\/s ETA 0:00:00  loss 0\.25 tag ok \[31m $/);
  assert.ok(lines.includes('validation Dice 0.8') && lines.includes('second line'));
  assert.is(lines[lines.length - 1], 'done');
});

test('not a TTY: done() writes out a state not yet printed', () => {
  const stream = fakeStream(false);
  let t = 0;
  const p = createProgress({ total: 100, start: 40, stream, now: () => t });
  for (let i = 41; i <= 45; i++) { t += 1000; p.update(i, { loss: 0.5 }); }
  p.done();
  assert.equal(stream.out.split('\n').filter(Boolean).map((l) => l.split(' ')[0]), ['41/100', '45/100']);
});

test('a total that is not a positive number is refused', () => {
  assert.throws(() => createProgress({ total: 0, stream: fakeStream(false) }), /^voxgrad:/);
  assert.throws(() => createProgress({ total: NaN, stream: fakeStream(false) }), /^voxgrad:/);
});

test.run();
