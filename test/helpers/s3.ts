/** "OK", or "<HTTP status> <S3 error name>" (plus the message when S3 never answered). */
export async function s3Outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    return status === undefined ? `? ${e.name}: ${e.message}` : `${status} ${e.name}`;
  }
}
