// client/acl-guard.ts on its own and behind the SDK (fake S3): which ACL parameters are refused
// before signing, with which code and message, and that a no-op ACL is dropped, not sent. No RGW.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { aclGuard, checkAclInput } from '../../client/acl-guard.js';
import { StorageError } from '../../client/index.js';
import { fakeStorage, PREFIX } from '../helpers/fake-storage.js';

const REST =
  ' refused: Keyhole credentials cannot set object ACLs or grants, so an object can never be made public or ' +
  'shared by its uploader. Remove the parameter; to share a file, grant the reader access to its prefix on the ' +
  'broker (KEYHOLE_GRANTS).';

const refusal = (f: () => unknown): StorageError => {
  try {
    f();
  } catch (e) {
    return e as StorageError;
  }
  throw new Error('expected a refusal');
};

describe('checkAclInput', () => {
  it('no ACL and no grant: the same input object, untouched', () => {
    const input = { Bucket: 'b', Key: 'k', ContentType: 'text/plain' };
    expect(checkAclInput('PutObjectCommand', input)).toBe(input);
  });

  it.each(['private', 'bucket-owner-full-control'])('ACL "%s" grants nothing more: dropped, the rest kept', (acl) => {
    const input = { Bucket: 'b', Key: 'k', ACL: acl };
    const out = checkAclInput('PutObjectCommand', input);
    expect(out).toStrictEqual({ Bucket: 'b', Key: 'k' });
    expect(input).toStrictEqual({ Bucket: 'b', Key: 'k', ACL: acl }); // the caller's object is not changed
  });

  it.each([
    ['public-read', 'ACL: public-read'],
    ['public-read-write', 'ACL: public-read-write'],
    ['authenticated-read', 'ACL: authenticated-read'],
    ['Private', 'ACL: Private'], // not the canned ACL S3 knows: refused, never guessed at
    ['', 'ACL: '],
    [7, 'ACL: 7'],
    [null, 'ACL: null'],
  ])('ACL %j is refused: acl_not_allowed naming it', (acl, named) => {
    const err = refusal(() => checkAclInput('PutObjectCommand', { Bucket: 'b', Key: 'k', ACL: acl }));
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('acl_not_allowed');
    expect(err.message).toBe(`PutObjectCommand with ${named}${REST}`);
    expect(err.s3Code).toBeUndefined();
    expect(err.status).toBeUndefined();
  });

  it.each(['GrantRead', 'GrantReadACP', 'GrantWrite', 'GrantWriteACP', 'GrantFullControl'])(
    '%s is refused, whatever its value (even empty)',
    (param) => {
      for (const value of ['id="someone"', '']) {
        const err = refusal(() => checkAclInput('CreateMultipartUploadCommand', { Key: 'k', [param]: value }));
        expect(err.code).toBe('acl_not_allowed');
        expect(err.message).toBe(`CreateMultipartUploadCommand with ${param}${REST}`);
      }
    },
  );

  it('everything asked for is named, in order: the ACL first, then each grant', () => {
    const err = refusal(() =>
      checkAclInput('CopyObjectCommand', {
        GrantFullControl: 'x',
        ACL: 'public-read',
        GrantRead: 'y',
        GrantWriteACP: 'z',
      }),
    );
    expect(err.message).toBe(
      `CopyObjectCommand with ACL: public-read, GrantRead, GrantWriteACP, GrantFullControl${REST}`,
    );
  });

  it('a no-op ACL with a grant is still refused, naming the grant only', () => {
    const err = refusal(() => checkAclInput('PutObjectCommand', { ACL: 'private', GrantRead: 'x' }));
    expect(err.message).toBe(`PutObjectCommand with GrantRead${REST}`);
  });
});

describe('aclGuard, the SDK plugin', () => {
  type Middleware = (
    next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
    context: { commandName?: string },
  ) => (args: { input: Record<string, unknown> }) => Promise<unknown>;
  const installed = () => {
    const added: { middleware: Middleware; options: unknown }[] = [];
    aclGuard.applyToStack({
      add: (middleware: Middleware, options: unknown) => added.push({ middleware, options }),
    } as never);
    expect(added).toHaveLength(1);
    return added[0]!;
  };

  it('runs first, before anything is signed: initialize step, high priority, named', () => {
    expect(installed().options).toStrictEqual({ step: 'initialize', name: 'keyholeAclGuard', priority: 'high' });
  });

  it('passes the same args on when nothing changes, and args without the ACL when a no-op ACL is dropped', async () => {
    const { middleware } = installed();
    const seen: unknown[] = [];
    const next = async (args: unknown) => {
      seen.push(args);
      return 'sent';
    };
    const plain = { input: { Key: 'k' }, other: 1 };
    await expect(middleware(next, { commandName: 'PutObjectCommand' })(plain)).resolves.toBe('sent');
    expect(seen[0]).toBe(plain);
    const withAcl = { input: { Key: 'k', ACL: 'private' }, other: 1 };
    await middleware(next, { commandName: 'PutObjectCommand' })(withAcl);
    expect(seen[1]).toStrictEqual({ input: { Key: 'k' }, other: 1 });
  });

  it('refuses before next is called; a command without a name is called "request"', async () => {
    const { middleware } = installed();
    let called = false;
    const next = async () => {
      called = true;
      return undefined;
    };
    const err = await middleware(next, {})({ input: { ACL: 'public-read' } }).catch((e: unknown) => e as StorageError);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toBe(`request with ACL: public-read${REST}`);
    expect(called).toBe(false);
  });

  it('on the storage object’s own client: a public ACL never reaches S3, a private one is sent without the header', async () => {
    const { s3, storage } = fakeStorage();
    const client = await storage.client();
    const put = (ACL: string) =>
      client.send(new PutObjectCommand({ Bucket: 'uploads', Key: `${PREFIX}a.txt`, Body: 'x', ACL: ACL as never }));
    const err = await put('public-read').catch((e: unknown) => e as StorageError);
    expect(err).toMatchObject({ code: 'acl_not_allowed', message: `PutObjectCommand with ACL: public-read${REST}` });
    expect(s3.count('PutObject')).toBe(0);
    await put('private');
    expect(s3.count('PutObject')).toBe(1);
    expect(s3.log[0]!.headers['x-amz-acl']).toBeUndefined();
  });
});
