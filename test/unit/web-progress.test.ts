// The web app's upload progress numbers and texts, in Node with a fake clock.
import { describe, expect, test } from 'vitest';
import { createProgress, INITIAL_PROGRESS, sumParts } from '../../client/web/src/progress.js';

const MiB = 1024 * 1024;

/** A clock the test moves by hand, in milliseconds. */
function fakeClock(): { now: () => number; advance(ms: number): void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('createProgress', () => {
  test('a row starts at 0% and "starting…"', () => {
    expect(INITIAL_PROGRESS).toEqual({ loaded: 0, percent: 0, speed: 'starting…', eta: '' });
  });

  test('percent, speed and time left from bytes sent', () => {
    const clock = fakeClock();
    const progress = createProgress(10 * MiB, clock.now);
    clock.advance(1000);
    expect(progress.update(MiB)).toEqual({ loaded: MiB, percent: 10, speed: '1.0 MiB/s', eta: '9 s left' });
    clock.advance(1000);
    expect(progress.update(3 * MiB)).toEqual({
      loaded: 3 * MiB,
      percent: 30,
      speed: '1.5 MiB/s',
      eta: '5 s left',
    });
    clock.advance(4000);
    expect(progress.update(10 * MiB)).toEqual({ loaded: 10 * MiB, percent: 100, speed: '1.7 MiB/s', eta: '' });
    expect(progress.doneText()).toBe('done in 6 s');
  });

  test('never goes back (a retried part restarts its count) and never passes the size', () => {
    const clock = fakeClock();
    const progress = createProgress(1000, clock.now);
    clock.advance(1000);
    expect(progress.update(600).percent).toBe(60);
    expect(progress.update(200)).toMatchObject({ loaded: 600, percent: 60 });
    expect(progress.update(5000)).toMatchObject({ loaded: 1000, percent: 100, eta: '' });
  });

  test('percent rounds down, so 100% means every byte was sent', () => {
    const clock = fakeClock();
    const progress = createProgress(1000, clock.now);
    clock.advance(10);
    expect(progress.update(999).percent).toBe(99);
  });

  test('no speed or time left before any time has passed', () => {
    const clock = fakeClock();
    expect(createProgress(1000, clock.now).update(500)).toEqual({ loaded: 500, percent: 50, speed: '', eta: '' });
  });

  test('a resumed upload starts at the bytes sent before, which do not count as speed', () => {
    const clock = fakeClock();
    const progress = createProgress(10 * MiB, clock.now, 6 * MiB);
    expect(progress.update(0)).toMatchObject({ loaded: 6 * MiB, percent: 60 });
    clock.advance(1000);
    expect(progress.update(7 * MiB)).toEqual({ loaded: 7 * MiB, percent: 70, speed: '1.0 MiB/s', eta: '3 s left' });
  });

  test('an empty file is 100% at once', () => {
    const clock = fakeClock();
    expect(createProgress(0, clock.now).update(0)).toMatchObject({ loaded: 0, percent: 100, eta: '' });
  });
});

describe('sumParts', () => {
  test('adds the latest count of each part', () => {
    const totals: number[] = [];
    const report = sumParts((bytes) => totals.push(bytes));
    report(1, 100);
    report(2, 50);
    report(1, 300);
    report(3, 10);
    // A part that restarts (retry) reports from 0 again: its old count is replaced, not added.
    report(2, 0);
    expect(totals).toEqual([100, 150, 350, 360, 310]);
  });
});
