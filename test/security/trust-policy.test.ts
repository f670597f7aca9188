// Issue 10, point 8: /readyz makes exactly the AssumeRole call that serving makes, and the trust
// policy's required actions are derived from that real request. On AWS, SourceIdentity needs
// sts:SetSourceIdentity in the trust policy; RGW 16 refuses any trust policy that names it (pinned).
import { randomBytes } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateRoleCommand, DeleteRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { afterAll, describe, expect, it } from 'vitest';
import { trustPolicy } from '../../infra/local/uploader-role.mjs';
import { buildSessionPolicy, requiredTrustActions } from '../../server/index.js';
import { startBroker } from '../helpers/broker.js';
import { stack, stackVendor } from '../helpers/stack.js';

const s = stack();

/** An STS client that records the input of every AssumeRole it sends. */
function recordingClient() {
  const inputs: Record<string, unknown>[] = [];
  const client = new STSClient({ region: s.region, endpoint: s.stsEndpoint, credentials: s.brokerCredentials });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'AssumeRoleCommand') inputs.push({ ...(args.input as Record<string, unknown>) });
      return next(args);
    },
    { step: 'initialize', name: 'recordAssumeRole' },
  );
  return { client, inputs };
}

const shape = (input: Record<string, unknown>) => Object.keys(input).sort();

async function trustDecision(policy: object, action: string) {
  const result = await runSimulation(
    {
      request: {
        principal: 'arn:aws:iam::123456789012:role/keyhole-broker',
        action,
        resource: { resource: 'arn:aws:iam::123456789012:role/keyhole-uploader', accountId: '123456789012' },
        contextVariables: {},
      },
      identityPolicies: [
        {
          name: 'broker',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] },
        },
      ],
      resourcePolicy: policy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulator: ${JSON.stringify(result)}`);
  return result.overallResult;
}

describe('readiness makes the serving call', () => {
  it('the probe sends the same parameters as issuing (SourceIdentity, duration), with a deny-all policy', async () => {
    const { client, inputs } = recordingClient();
    const vendor = stackVendor({ client });
    await vendor.issue({
      subject: 'alice',
      issuer: 'urn:test',
      identityId: 'alice',
      sessionName: 'kh-alice-abcdefabcdef',
      policy: buildSessionPolicy(s.bucket, [{ prefix: 'users/alice/', access: ['read'] }]),
      durationSeconds: 1800,
    });
    await vendor.ping(1800);
    expect(inputs).toHaveLength(2);
    const [serving, probe] = inputs as [Record<string, unknown>, Record<string, unknown>];
    expect(shape(probe)).toEqual(shape(serving));
    expect(shape(serving)).toEqual(['DurationSeconds', 'Policy', 'RoleArn', 'RoleSessionName', 'SourceIdentity']);
    expect(probe.DurationSeconds).toBe(1800);
    expect(probe.SourceIdentity).toBe(probe.RoleSessionName);
    expect(JSON.parse(probe.Policy as string).Statement).toEqual([{ Effect: 'Deny', Action: '*', Resource: '*' }]);
  });

  it('the trust policy needs exactly what the real request sends: sts:SetSourceIdentity with SourceIdentity', async () => {
    const withSource = recordingClient();
    await stackVendor({ client: withSource.client }).ping(900);
    expect(requiredTrustActions(withSource.inputs[0]!)).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    const without = recordingClient();
    await stackVendor({ client: without.client, sourceIdentity: false }).ping(900);
    expect(requiredTrustActions(without.inputs[0]!)).toEqual(['sts:AssumeRole']);
    expect(requiredTrustActions({ Tags: [{ Key: 'a', Value: 'b' }] })).toEqual(['sts:AssumeRole', 'sts:TagSession']);

    // On AWS, a trust policy built from the request allows it; one with sts:AssumeRole alone
    // leaves sts:SetSourceIdentity denied, so every credentials call would fail.
    const trust = (actions: string[]) => ({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/keyhole-broker' }, Action: actions },
      ],
    });
    const needed = requiredTrustActions(withSource.inputs[0]!);
    for (const action of needed) expect(await trustDecision(trust(needed), action)).toBe('Allowed');
    expect(await trustDecision(trust(['sts:AssumeRole']), 'sts:SetSourceIdentity')).toBe('ImplicitlyDenied');
  });
});

describe('on RGW', () => {
  const iam = new IAMClient({ region: s.region, endpoint: s.stsEndpoint, credentials: s.brokerCredentials });
  const created: string[] = [];
  afterAll(async () => {
    for (const RoleName of created) await iam.send(new DeleteRoleCommand({ RoleName })).catch(() => undefined);
  });
  async function role(actions: string[], maxSessionDuration = 3600): Promise<string> {
    const RoleName = `kh-test-trust-${randomBytes(4).toString('hex')}`;
    const doc = trustPolicy();
    (doc.Statement[0] as { Action: string[] }).Action = actions;
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName,
        AssumeRolePolicyDocument: JSON.stringify(doc),
        MaxSessionDuration: maxSessionDuration,
      }),
    );
    created.push(RoleName);
    return out.Role?.Arn ?? `arn:aws:iam:::role/${RoleName}`;
  }

  it('the local trust policy grants what RGW needs: sts:AssumeRole only', () => {
    expect((trustPolicy().Statement[0] as { Action: string[] }).Action).toEqual(['sts:AssumeRole']);
  });

  it('RGW deviation, pinned: a trust policy naming sts:SetSourceIdentity makes every AssumeRole AccessDenied', async () => {
    const sts = new STSClient({ region: s.region, endpoint: s.stsEndpoint, credentials: s.brokerCredentials });
    const call = (RoleArn: string) =>
      sts.send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'kh-trust-probe', DurationSeconds: 900 })).then(
        () => 'OK',
        (err: { $metadata?: { httpStatusCode?: number } }) => String(err.$metadata?.httpStatusCode),
      );
    const arn = await role(['sts:AssumeRole']);
    expect(await call(arn)).toBe('OK');
    // CreateRole refuses such a document outright (400); UpdateAssumeRolePolicy takes it, and then
    // the role cannot be assumed at all.
    await expect(role(['sts:AssumeRole', 'sts:SetSourceIdentity'])).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    });
    const doc = trustPolicy();
    (doc.Statement[0] as { Action: string[] }).Action = ['sts:AssumeRole', 'sts:SetSourceIdentity'];
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: created.at(-1)!, PolicyDocument: JSON.stringify(doc) }),
    );
    expect(await call(arn)).toBe('403');
  });

  it('/readyz fails when serving would: a duration above the role’s maximum is not ready', async () => {
    const roleArn = await role(['sts:AssumeRole'], 3600);
    const vendor = stackVendor({ roleArn });
    const ok = await startBroker({ vendor, durationSeconds: 3600 });
    const tooLong = await startBroker({ vendor: stackVendor({ roleArn }), durationSeconds: 7200 });
    try {
      expect((await fetch(`${ok.url}/readyz`)).status).toBe(200);
      const res = await fetch(`${tooLong.url}/readyz`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      // Not ready is always 503; the code and message name the vendor's own failure.
      expect([res.status, body.error.code, body.error.message]).toEqual([
        503,
        'sts_error',
        'STS AssumeRole failed: InvalidArgument',
      ]);
      // And serving fails the same way, which a 900 s probe would have hidden.
      const served = await tooLong.credentials(await tooLong.token('alice'));
      expect([served.status, served.body.error.code]).toEqual([502, 'sts_error']);
    } finally {
      await ok.close();
      await tooLong.close();
    }
  });
});
