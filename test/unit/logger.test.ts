// Logs: human-readable on a terminal (npm start), JSON otherwise, and always JSON in production,
// where audit events feed log pipelines. Redaction holds in both forms.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logOutput, prettyInstalled } from '../../server/logger.js';

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
