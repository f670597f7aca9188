// Local file failures in words: `cannot read "nope.txt": file not found`, not an errno code.
import { CliError, EXIT } from './exit-codes.js';

/** What the command was doing with the file. */
export type LocalAction = 'read' | 'write';

const WORDS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EBUSY: 'the file is busy',
  EIO: 'input/output error',
};

/**
 * The reason in words for a Node file-system error code. ENOENT depends on the action: reading, the
 * file is missing; writing, the folder it goes in is. An unknown code is given as it is.
 */
export function describeErrno(code: string | undefined, action: LocalAction): string {
  if (code === 'ENOENT') return action === 'read' ? 'file not found' : 'folder not found';
  return (code && WORDS[code]) ?? code ?? 'error';
}

/** A `local_file` error (exit 7): `cannot read "nope.txt": file not found`. */
export function localFileError(path: string, err: unknown, action: LocalAction): CliError {
  const reason = describeErrno((err as NodeJS.ErrnoException | undefined)?.code, action);
  return new CliError('local_file', EXIT.localFile, `cannot ${action} "${path}": ${reason}`, { cause: err });
}
