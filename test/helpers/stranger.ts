// A second, unrelated RGW user ("stranger") on the local stack, with fixed keys: it is neither the
// bucket owner nor a Keyhole session, so it shows what an ACL grant to another RGW user would give.
// Created once per run (idempotent, also under parallel callers) with radosgw-admin.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { ENV_FILE, stack } from './stack.js';

export const STRANGER_UID = 'keyhole-test-stranger';
export const STRANGER_KEYS = {
  accessKeyId: 'KHTESTSTRANGER000001',
  secretAccessKey: 'keyhole-test-stranger-fixed-secret-000001',
};

/** The ceph.conf of the stack behind ENV_FILE (infra/local/lib.sh: $KEYHOLE_LOCAL_DIR or .local/rgw). */
function cephConf(): string {
  return join(process.env.KEYHOLE_LOCAL_DIR ?? join(dirname(ENV_FILE), 'rgw'), 'ceph.conf');
}

function admin(args: string[]): { ok: boolean; out: string } {
  try {
    // No `-n`: radosgw-admin then runs as client.admin, which needs no keyring here (auth none).
    const out = execFileSync('radosgw-admin', args, {
      env: { ...process.env, CEPH_CONF: cephConf() },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    return { ok: true, out: String(out) };
  } catch (err) {
    const e = err as { stderr?: Buffer; message?: string };
    return { ok: false, out: String(e.stderr ?? e.message) };
  }
}

let ensured = false;

/** Makes sure the stranger exists with STRANGER_KEYS. */
export function ensureStranger(): void {
  if (ensured) return;
  const keyArgs = [`--access-key=${STRANGER_KEYS.accessKeyId}`, `--secret=${STRANGER_KEYS.secretAccessKey}`];
  let info = admin(['user', 'info', `--uid=${STRANGER_UID}`]);
  if (!info.ok) {
    const created = admin([
      'user',
      'create',
      `--uid=${STRANGER_UID}`,
      '--display-name=Keyhole test stranger',
      ...keyArgs,
    ]);
    // A parallel run may have created it first; the info below decides.
    info = admin(['user', 'info', `--uid=${STRANGER_UID}`]);
    if (!info.ok) throw new Error(`cannot create RGW user ${STRANGER_UID}: ${created.out}`);
  }
  const keys = (JSON.parse(info.out) as { keys?: { access_key: string; secret_key: string }[] }).keys ?? [];
  const has = keys.some(
    (k) => k.access_key === STRANGER_KEYS.accessKeyId && k.secret_key === STRANGER_KEYS.secretAccessKey,
  );
  if (!has) {
    const added = admin(['key', 'create', `--uid=${STRANGER_UID}`, '--key-type=s3', ...keyArgs]);
    if (!added.ok) throw new Error(`cannot give ${STRANGER_UID} its fixed keys: ${added.out}`);
  }
  ensured = true;
}

/** S3 client signing as the stranger. */
export function strangerS3(): S3Client {
  const s = stack();
  return new S3Client({
    region: s.region,
    endpoint: s.s3Endpoint,
    forcePathStyle: true,
    credentials: STRANGER_KEYS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}
