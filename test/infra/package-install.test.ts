// The package as a consumer gets it (issue 17, point 1): `npm pack` of this working tree (in a copy,
// so the checkout's own dist/ is never rewritten under a running `npm start`), installed from the
// tarball into a scratch app in a temporary folder, then keyhole/client, keyhole/amplify, keyhole/server
// imported at run time (keyhole/lambda resolved) and type-checked with tsc, and keyhole/client bundled for
// a browser. Dependencies come from the npm cache when it has them (--prefer-offline).
// Slow (a full build, then an install): a few minutes on a busy machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const temp = mkdtempSync(join(tmpdir(), 'keyhole-pack-'));
const copy = join(temp, 'checkout');
const app = join(temp, 'app');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Packages only the broker uses: none of them may reach a browser bundle of keyhole/client. */
const SERVER_ONLY = [
  'express',
  'helmet',
  'cors',
  'pino',
  'ioredis',
  'jose',
  'prom-client',
  'rate-limiter-flexible',
  '@aws-sdk/client-sts',
  '@aws-sdk/client-cognito-identity',
];
/** What a browser bundle of keyhole/client may weigh, minified and gzipped (measured: ~125 kB). */
const CLIENT_GZIP_BUDGET = 140_000;
const LIFECYCLE_AT_INSTALL = ['preinstall', 'install', 'postinstall', 'prepare'];

function run(cmd: string, args: string[], cwd: string) {
  const out = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 480_000, env: { ...process.env, NO_COLOR: '1' } });
  if (out.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${out.status ?? out.signal}):\n${out.stdout}\n${out.stderr}`);
  }
  return out;
}

let tarball = '';
let packed: { files: { path: string }[] } = { files: [] };
let installLog = '';

describe('npm pack, install the tarball into a scratch app, import it', { timeout: 300_000 }, () => {
  beforeAll(() => {
    // The working tree as git sees it (tracked and new files, not ignored ones: no dist/, no .local/).
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo });
    execFileSync('bash', ['-c', `mkdir -p "${copy}" && tar --null -T - -cf - | tar -xf - -C "${copy}"`], {
      cwd: repo,
      input: files,
    });
    symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
    const pack = run('npm', ['pack', '--json'], copy); // runs "prepack": the build
    packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))).at(0);
    tarball = join(copy, (packed as unknown as { filename: string }).filename);

    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    const install = run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--foreground-scripts',
        tarball,
        // What a TypeScript app of each kind brings itself: Amplify (for keyhole/amplify), Node's types.
        `@aws-amplify/core@${pkg.devDependencies['@aws-amplify/core']}`,
        `@types/node@${pkg.devDependencies['@types/node']}`,
      ],
      app,
    );
    installLog = install.stdout + install.stderr;
  }, 600_000);

  it('the tarball ships the built files and no sources; its package.json has no install-time script', () => {
    const paths = packed.files.map((f) => f.path);
    for (const exp of Object.values(pkg.exports as Record<string, string | { types: string; default: string }>)) {
      const targets = typeof exp === 'string' ? [exp] : [exp.types, exp.default];
      for (const t of targets) expect(paths).toContain(t.replace(/^\.\//, ''));
    }
    expect(paths).toContain(pkg.bin.keyhole);
    expect(paths.filter((p) => !p.startsWith('dist/') && !p.endsWith('.md') && p !== 'package.json')).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    const shipped = JSON.parse(readFileSync(join(app, 'node_modules/keyhole/package.json'), 'utf8'));
    for (const event of LIFECYCLE_AT_INSTALL) expect(shipped.scripts?.[event], event).toBeUndefined();
    expect(shipped.scripts.prepack).toBe('npm run build');
  });

  it('installing it runs nothing of keyhole and warns about no install script', () => {
    expect(installLog).not.toMatch(/keyhole@[^ ]+ (preinstall|install|postinstall|prepare)/);
    expect(installLog).not.toContain('install-scripts');
    expect(installLog).not.toContain('npm run build');
  });

  it('keyhole/client, /amplify and /server import at run time; keyhole/lambda resolves', () => {
    writeFileSync(
      join(app, 'imports.mjs'),
      [
        "const client = await import('keyhole/client');",
        "const amplify = await import('keyhole/amplify');",
        "const server = await import('keyhole/server');",
        // keyhole/lambda reads its configuration when it is loaded (a Lambda handler module): resolve it only.
        "const lambda = import.meta.resolve('keyhole/lambda');",
        'console.log(JSON.stringify({',
        '  client: typeof client.createStorage, provider: typeof client.brokerCredentials,',
        '  amplify: typeof amplify.createAmplifyCredentialsProvider, server: typeof server.createBroker,',
        "  lambda: lambda.endsWith('/node_modules/keyhole/dist/server/lambda/index.js'),",
        '}));',
      ].join('\n'),
    );
    const out = run(process.execPath, ['imports.mjs'], app);
    expect(JSON.parse(out.stdout)).toEqual({
      client: 'function',
      provider: 'function',
      amplify: 'function',
      server: 'function',
      lambda: true,
    });
  });

  it('type-checks: a Node app (strict, skipLibCheck off) and a browser app (DOM, bundler resolution)', () => {
    // IsAny catches a type that silently became `any` (an unresolved type import, with skipLibCheck on).
    const isAny = 'type IsAny<T> = 0 extends 1 & T ? true : false;';
    writeFileSync(
      join(app, 'node-app.ts'),
      [
        "import { brokerCredentials, createStorage, StorageError, type Grant } from 'keyhole/client';",
        "import { createAmplifyCredentialsProvider, type KeyholeAmplifyProvider } from 'keyhole/amplify';",
        "import { createBroker, type BrokerOptions, type GrantRule } from 'keyhole/server';",
        isAny,
        "const credentials = brokerCredentials({ brokerUrl: 'https://auth.example.com', getToken: () => 'jwt' });",
        "const amplify: KeyholeAmplifyProvider = createAmplifyCredentialsProvider({ brokerUrl: 'https://auth.example.com', getToken: async () => 'jwt' });",
        "const rule: GrantRule = { bucket: 'b', scopes: [{ prefix: 'users/{sub}/', access: ['read'] }] };",
        'export const notAny: [IsAny<ReturnType<typeof createBroker>>, IsAny<BrokerOptions>, IsAny<Grant>] = [false, false, false];',
        'export const used = [credentials, amplify, rule, createStorage, StorageError];',
        '// @ts-expect-error: "admin" is not an access kind',
        "export const bad: GrantRule = { bucket: 'b', scopes: [{ prefix: 'p/', access: ['admin'] }] };",
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'browser-app.ts'),
      [
        "import { brokerCredentials, createStorage } from 'keyhole/client';",
        "import { createAmplifyCredentialsProvider } from 'keyhole/amplify';",
        isAny,
        "const credentials = brokerCredentials({ brokerUrl: 'https://auth.example.com', getToken: () => 'jwt' });",
        'export const notAny: [IsAny<typeof credentials>, IsAny<ReturnType<typeof createStorage>>] = [false, false];',
        'export const used = [createAmplifyCredentialsProvider];',
      ].join('\n'),
    );
    const common = { strict: true, target: 'es2022', noEmit: true };
    writeFileSync(
      join(app, 'tsconfig.node.json'),
      JSON.stringify({
        compilerOptions: {
          ...common,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['node-app.ts'],
      }),
    );
    writeFileSync(
      join(app, 'tsconfig.browser.json'),
      JSON.stringify({
        compilerOptions: {
          ...common,
          module: 'esnext',
          moduleResolution: 'bundler',
          lib: ['es2022', 'dom', 'dom.iterable'],
          skipLibCheck: true,
          types: [],
        },
        files: ['browser-app.ts'],
      }),
    );
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    for (const project of ['tsconfig.node.json', 'tsconfig.browser.json']) {
      const out = spawnSync(process.execPath, [tsc, '-p', project], { cwd: app, encoding: 'utf8' });
      expect(out.stdout + out.stderr, project).toBe('');
      expect(out.status, project).toBe(0);
    }
  });

  it('a browser bundle of keyhole/client holds the S3 client and none of the broker’s packages', async () => {
    writeFileSync(join(app, 'bundle-entry.mjs'), "export * from 'keyhole/client';\n");
    const result = await build({
      absWorkingDir: app,
      entryPoints: ['bundle-entry.mjs'],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      outfile: 'bundle.js',
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    const gzip = gzipSync(code, { level: 9 }).length;
    const byPackage = new Map<string, number>();
    for (const [file, info] of Object.entries(result.metafile.outputs['bundle.js']!.inputs)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file;
      byPackage.set(name, (byPackage.get(name) ?? 0) + info.bytesInOutput);
    }
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6);
    const kB = (n: number) => `${(n / 1000).toFixed(0)} kB`;
    console.log(
      `[pack] keyhole/client browser bundle: ${kB(code.length)} minified, ${kB(gzip)} gzipped, ${byPackage.size} packages; ` +
        `top: ${top.map(([n, b]) => `${n} ${kB(b)}`).join(', ')}`,
    );
    expect([...byPackage.keys()]).toEqual(expect.arrayContaining(['@aws-sdk/client-s3', '@aws-sdk/lib-storage']));
    for (const name of SERVER_ONLY) expect(byPackage.has(name), name).toBe(false);
    expect(gzip).toBeLessThan(CLIENT_GZIP_BUDGET);
  });
});
