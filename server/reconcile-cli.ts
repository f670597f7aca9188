// `keyhole reconcile`: for operators, with the broker's own settings (the same environment and
// KEYHOLE_ENV_FILE as `npm run broker`). Lists the grants' prefixes, bounded, and runs every object
// modified in the window through the same upload handler as the confirm route and the notifications:
// the rules, removal, one signed webhook per outcome. For uploads no event reported (RGW's sync topic
// loses events while the broker is down; on AWS the scheduled reconciliation does the same).
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { DEV_NAMESPACE } from './auth/dev-login.js';
import { parseConfig } from './config.js';
import { uploadsOptionsFrom } from './config/uploads-env.js';
import { dispatchTo } from './events/dispatch.js';
import { WebhookSender } from './events/webhook.js';
import { compileGrants } from './grants.js';
import { createLogger } from './logger.js';
import { UploadCompleter } from './uploads/complete.js';
import { checkUploadsOptions } from './uploads/options.js';
import { reconcileUploads } from './uploads/reconcile.js';

export const RECONCILE_USAGE = `Usage: keyhole reconcile [--since DURATION|TIME] [--settle SECONDS] [--max-objects N] [--json]

Judges uploads that no event reported: lists the grants' prefixes (at most --max-objects objects) and
runs every object modified since --since through the broker's upload rules, deleting or quarantining
what breaks them and sending the webhook (KEYHOLE_EVENTS_WEBHOOK_URL). Objects the broker already
judged get the same verdict and the same webhook-id. Reads the broker's settings: the environment,
and KEYHOLE_ENV_FILE (npm run local:up writes .local/keyhole.env).

  --since         how far back: 90m, 24h, 7d, or an ISO time (default 24h)
  --settle        leave objects younger than this to their events, seconds (default 60)
  --max-objects   most objects listed, over every prefix (default 10000)
  --json          print the summary as JSON

Exit status: 0 done · 1 the listing was cut short or S3 failed · 2 usage or settings`;

interface Io {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Record<string, string | undefined>;
}

/** `90m`, `24h`, `7d`, `3600s` or an ISO time, as a Date; undefined when unreadable. */
export function sinceTime(value: string, now = Date.now()): Date | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(value);
  if (m) return new Date(now - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's']! * 1000);
  const t = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(t) ? new Date(t) : undefined;
}

const line = (stream: Writable, text: string) => stream.write(`${text}\n`);

/** Runs `keyhole reconcile` (argv after the command name). Returns the exit status; never throws. */
export async function reconcileCommand(argv: readonly string[], io: Io): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        since: { type: 'string' },
        settle: { type: 'string' },
        'max-objects': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    line(io.stderr, `keyhole reconcile: ${(err as Error).message.split('\n')[0]}`);
    return 2;
  }
  if (values.help) {
    line(io.stdout, RECONCILE_USAGE);
    return 0;
  }
  const since = sinceTime(values.since ?? '24h');
  const settle = Number(values.settle ?? 60);
  const maxObjects = Number(values['max-objects'] ?? 10_000);
  const bad = !since
    ? `--since must be a duration such as 24h or an ISO time (got "${values.since}")`
    : !Number.isInteger(settle) || settle < 0
      ? '--settle must be a whole number of seconds'
      : !Number.isInteger(maxObjects) || maxObjects < 1 || maxObjects > 1_000_000
        ? '--max-objects must be a whole number from 1 to 1000000'
        : undefined;
  if (bad) {
    line(io.stderr, `keyhole reconcile: ${bad}`);
    return 2;
  }
  const result = parseConfig(io.env as NodeJS.ProcessEnv);
  if (!result.ok) {
    for (const p of result.problems)
      line(io.stderr, `keyhole reconcile: invalid configuration: ${p.variable}: ${p.message}`);
    return 2;
  }
  const config = result.config;
  if (!config.uploads) {
    line(io.stderr, 'keyhole reconcile: the broker settings give it no S3 access for upload checks');
    return 2;
  }
  // Log lines (JSON) go to stderr: stdout carries the summary.
  const logger = createLogger(values.json ? 'warn' : 'info', io.stderr as NodeJS.WritableStream);
  const rules = compileGrants(config.broker.grants);
  const settings = checkUploadsOptions(uploadsOptionsFrom(config.uploads), rules)!;
  const webhook = settings.webhook && new WebhookSender(settings.webhook, logger, 'KEYHOLE_EVENTS_WEBHOOK');
  const outcomes: { type: string; key: string; reason: string | null }[] = [];
  const deliver = dispatchTo(undefined, webhook, logger);
  const completer = new UploadCompleter(settings, logger, (outcome) => {
    outcomes.push({ type: outcome.event.type, key: outcome.event.data.key, reason: outcome.event.data.reason });
    deliver(outcome);
  });
  try {
    const summary = await reconcileUploads({
      rules,
      settings,
      completer,
      since: since!,
      until: new Date(Date.now() - settle * 1000),
      maxObjects,
      devNamespace: config.broker.devLogin ? DEV_NAMESPACE : '',
    });
    await webhook?.idle();
    const stats = webhook?.stats();
    if (values.json) {
      line(io.stdout, JSON.stringify({ ...summary, outcomes, webhook: stats ?? null }));
    } else {
      for (const o of outcomes)
        line(io.stdout, `${o.type === 'upload.accepted' ? 'accepted' : `rejected (${o.reason})`}: ${o.key}`);
      line(
        io.stdout,
        `reconciled: listed ${summary.listed} objects in ${summary.pages} requests; judged ${summary.judged} ` +
          `(${summary.accepted} accepted, ${summary.rejected} rejected)` +
          (stats ? `; webhook: ${stats.delivered} delivered, ${stats.failed + stats.dropped} not delivered` : ''),
      );
      if (!summary.complete) {
        line(
          io.stdout,
          `the listing stopped at --max-objects after "${summary.lastKey}": run again with a larger bound`,
        );
      }
    }
    return summary.complete ? 0 : 1;
  } catch (err) {
    line(io.stderr, `keyhole reconcile: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? err}`);
    return 1;
  } finally {
    webhook?.close();
  }
}
