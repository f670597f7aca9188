// Logs: human-readable on a terminal (npm start), JSON otherwise, and always JSON in production,
// where audit events feed log pipelines. Redaction holds in both forms.
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logOutput, prettyInstalled, redactSecrets } from '../../server/logger.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('logOutput: which form a process writes', () => {
  const cases: [Parameters<typeof logOutput>[0], boolean, boolean, boolean, 'json' | 'pretty'][] = [
    // format, isTTY, production, pino-pretty installed -> output
    ['auto', true, false, true, 'pretty'],
    ['auto', false, false, true, 'json'],
    ['auto', true, false, false, 'json'],
    ['auto', true, true, true, 'json'],
    ['json', true, false, true, 'json'],
    ['pretty', false, false, true, 'pretty'],
    ['pretty', true, true, true, 'json'],
    ['auto', false, true, true, 'json'],
  ];
  it.each(cases)('%s, tty %s, production %s, installed %s -> %s', (format, isTTY, production, installed, want) => {
    expect(logOutput(format, { isTTY, production, prettyInstalled: installed })).toBe(want);
  });

  it('pino-pretty is installed in a development checkout (a devDependency)', () => {
    expect(prettyInstalled()).toBe(true);
  });
});

describe('createLogger', () => {
  it('writes one JSON object a line by default, with the service name', async () => {
    const out = sink();
    createLogger('info', out.stream).info({ event: 'credentials.issued', sub: 'alice' }, 'issued');
    await flush();
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, service: 'keyhole-broker', event: 'credentials.issued', msg: 'issued' });
  });

  it('"pretty" writes readable lines without colour codes into a non-terminal stream', async () => {
    const out = sink();
    createLogger('info', out.stream, 'pretty').info({ event: 'credentials.issued', sub: 'alice' }, 'issued');
    await flush();
    const text = out.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: credentials\.issued: issued\n {4}sub: "alice"\n$/);
    expect(text).not.toContain('\x1b[');
    expect(text).not.toContain('keyhole-broker');
  });

  it.each(['json', 'pretty'] as const)('%s: secrets under known names are redacted', async (output) => {
    const out = sink();
    createLogger('info', out.stream, output).info(
      { token: 'eyJ.secret.jwt', credentials: { secretAccessKey: 'SECRET' }, headers: { authorization: 'Bearer x' } },
      'careless',
    );
    await flush();
    expect(out.text()).toContain('[redacted]');
    for (const secret of ['eyJ.secret.jwt', 'SECRET', 'Bearer x']) expect(out.text()).not.toContain(secret);
  });

  it('"pretty" leads with the audit event when a line has no message', async () => {
    const out = sink();
    createLogger('info', out.stream, 'pretty').info({ event: 'credentials.refused', status: 401 });
    await flush();
    expect(out.text()).toMatch(/^\[[\d:.]+\] INFO: credentials\.refused\n {4}status: 401\n$/);
  });

  it('writes stdout synchronously: a process killed (SIGKILL) right after 2,000 lines has written all of them', () => {
    // Asynchronous writes (pino's default) hand the first line to the thread pool and buffer the
    // rest until it returns: a kill in the same turn of the event loop loses 1,999 audit lines.
    const logger = new URL('../../server/logger.ts', import.meta.url).href;
    const script = [
      `import { createLogger } from ${JSON.stringify(logger)};`,
      "const logger = createLogger('info');",
      "for (let n = 0; n < 2000; n++) logger.info({ event: 'credentials.issued', n });",
      "process.kill(process.pid, 'SIGKILL');",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(run.signal).toBe('SIGKILL');
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; n: number });
    expect(lines).toHaveLength(2000);
    expect(lines.map((l) => l.n)).toEqual([...Array(2000).keys()]);
  });

  it('honours the level', async () => {
    const out = sink();
    const logger = createLogger('warn', out.stream, 'pretty');
    logger.info('hidden');
    logger.warn('shown');
    await flush();
    expect(out.text()).not.toContain('hidden');
    expect(out.text()).toContain('WARN: shown');
  });
});

describe('redactSecrets: what no log line ever carries', () => {
  it('censors every secret name at the top, one and two levels down, and leaves the rest', () => {
    const line = {
      event: 'x',
      token: 't',
      authorization: 'Bearer a',
      credentials: { accessKeyId: 'AKIA' },
      outer: { secretAccessKey: 's', sessionToken: 'st', keep: 1, inner: { token: 'deep', keep: 2 } },
      req: { headers: { authorization: 'Bearer b', host: 'h' } },
      list: [{ token: 'in-array' }],
    };
    expect(redactSecrets(line)).toEqual({
      event: 'x',
      token: '[redacted]',
      authorization: '[redacted]',
      credentials: '[redacted]',
      outer: {
        secretAccessKey: '[redacted]',
        sessionToken: '[redacted]',
        keep: 1,
        inner: { token: '[redacted]', keep: 2 },
      },
      req: { headers: { authorization: '[redacted]', host: 'h' } },
      // Arrays are not walked (as pino's `*.name` paths did not); no handler logs secrets in one.
      list: [{ token: 'in-array' }],
    });
  });

  it('never changes the caller’s object, and returns it as it is when nothing is secret', () => {
    const inner = { authorization: 'Bearer a' };
    const line = { req: { headers: inner }, n: 1 };
    const out = redactSecrets(line);
    expect(inner.authorization).toBe('Bearer a');
    expect(line.req.headers).toBe(inner);
    expect(out.req.headers.authorization).toBe('[redacted]');
    const clean = { event: 'credentials.issued', sub: 'alice', nested: { a: 1 } };
    expect(redactSecrets(clean)).toBe(clean);
  });

  it('a censored Error keeps its class and message for the error serializer', () => {
    const err = Object.assign(new Error('boom'), { token: 'leak' });
    const out = redactSecrets({ err }).err;
    expect(out).toBeInstanceOf(Error);
    expect([out.message, out.token]).toEqual(['boom', '[redacted]']);
    expect(err.token).toBe('leak');
  });

  it('the logger writes the censored line: the secret never reaches the stream', async () => {
    const out = sink();
    createLogger('info', out.stream).info({ req: { headers: { authorization: 'Bearer zzz' } }, ok: true });
    await flush();
    const line = JSON.parse(out.text());
    expect(line.req.headers.authorization).toBe('[redacted]');
    expect(line.ok).toBe(true);
  });
});
