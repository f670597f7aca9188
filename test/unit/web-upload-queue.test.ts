// Issue 17, point 14: the web app's overall upload line, and no "100%" before a file is stored.
import { describe, expect, test } from 'vitest';
import { summarize, whileSending, type QueueItem } from '../../client/web/src/progress.js';

const MiB = 1024 * 1024;
const item = (size: number, loaded: number, state: QueueItem['state'] = 'uploading'): QueueItem => ({
  size,
  loaded,
  state,
});

describe('whileSending', () => {
  test('every byte sent but not yet stored: 99% and "finishing…", never 100%', () => {
    expect(whileSending({ loaded: 10, percent: 100, speed: '1.0 MiB/s', eta: '' })).toEqual({
      loaded: 10,
      percent: 99,
      speed: '1.0 MiB/s',
      eta: 'finishing…',
    });
  });
  test('below 100% it shows the progress as it is', () => {
    const p = { loaded: 5, percent: 50, speed: '', eta: '3 s left' };
    expect(whileSending(p)).toBe(p);
  });
});

describe('summarize', () => {
  test('percent and bytes of what will be stored; failed and cancelled are counted, not weighed', () => {
    expect(
      summarize([
        item(4 * MiB, 4 * MiB, 'done'),
        item(4 * MiB, MiB),
        item(2 * MiB, MiB),
        item(8 * MiB, 3 * MiB, 'failed'),
        item(MiB, 0, 'cancelled'),
      ]),
    ).toEqual({
      percent: 60,
      running: 2,
      done: 1,
      failed: 1,
      cancelled: 1,
      text: 'Uploading 2 files: 1 of 3 done, 60% (6.0 MiB of 10 MiB); 1 failed, 1 cancelled',
    });
  });

  test('while any file runs it says 99% at most, even with every byte sent', () => {
    expect(summarize([item(MiB, MiB, 'done'), item(MiB, MiB)])).toMatchObject({
      percent: 99,
      text: 'Uploading 1 file: 1 of 2 done, 99% (2.0 MiB of 2.0 MiB)',
    });
  });

  test('all finished: how many were stored, and how many were not', () => {
    const fifty = Array.from({ length: 50 }, () => item(1000, 1000, 'done'));
    expect(summarize(fifty)).toMatchObject({ percent: 100, running: 0, text: '50 files uploaded' });
    expect(summarize([item(1, 1, 'done'), item(1, 0, 'failed')]).text).toBe('1 file uploaded, 1 failed');
    expect(summarize([item(0, 0, 'done')])).toMatchObject({ percent: 100, text: '1 file uploaded' });
    expect(summarize([item(5, 0, 'cancelled')])).toMatchObject({ percent: 100, text: '0 files uploaded, 1 cancelled' });
  });
});
