// The `keyhole` command's state file (client/cli/upload-state.ts): where it lives, that concurrent
// changes from one process all land, that it is owner-only, and that a damaged file reads as empty.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonFileUploadStore, stateFile } from '../../client/cli/upload-state.js';
import type { UploadRecord } from '../../client/upload-store.js';

const dir = mkdtempSync(join(tmpdir(), 'keyhole-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (key: string): UploadRecord => ({
  version: 1,
  bucket: 'b',
  key,
  uploadId: `id-${key}`,
  partSize: 8 * 1024 * 1024,
  file: { name: '/tmp/x', size: 1, lastModified: 0, sample: 'ab' },
  parts: [{ partNumber: 1, etag: '"e"' }],
  createdAt: 1,
});

describe('the state file', () => {
  it('lives beside the configuration: KEYHOLE_CONFIG_DIR, else XDG_CONFIG_HOME/keyhole, else ~/.config/keyhole', () => {
    expect(stateFile({ KEYHOLE_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/c/uploads.json');
    expect(stateFile({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/keyhole/uploads.json');
    expect(stateFile({ HOME: '/h' })).toBe('/h/.config/keyhole/uploads.json');
    expect(stateFile({})).toBeUndefined();
  });

  it('keeps every one of many concurrent changes, owner-only, and drops deleted records', async () => {
    const path = join(dir, 'a', 'uploads.json');
    const store = jsonFileUploadStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`b/k${i}`, record(`k${i}`))));
    await Promise.all([store.delete('b/k3'), store.delete('b/k7')]);
    const keys = (await store.list()).map((r) => r.key).sort();
    expect(keys).toHaveLength(18);
    expect(keys).not.toContain('k3');
    expect(await store.get('b/k5')).toEqual(record('k5'));
    expect(await store.get('b/k3')).toBeUndefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    // A second store on the same file (another run of the command) sees the same records.
    expect((await jsonFileUploadStore(path).list()).length).toBe(18);
  });

  it('reads a missing or damaged file as empty, and replaces it on the next change', async () => {
    const path = join(dir, 'broken.json');
    const store = jsonFileUploadStore(path);
    expect(await store.list()).toEqual([]);
    writeFileSync(path, '{"version":1,"uploads":');
    expect(await store.list()).toEqual([]);
    await store.set('b/k', record('k'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, uploads: { 'b/k': record('k') } });
  });
});
