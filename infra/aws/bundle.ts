// Bundles `keyhole/lambda` (server/lambda/index.ts) for the Lambda runtime with esbuild: one
// minified, tree-shaken ES module with every dependency (the AWS SDK too, so the deployed code runs
// the SDK version this package pins, not the runtime's). No Docker, no network.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { buildSync, type Metafile } from 'esbuild';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LAMBDA_ENTRY = join(REPO_ROOT, 'server/lambda/index.ts');
/** The runtime the stack deploys, and the target the bundle is built for. */
export const NODE_TARGET = 'node22';

export interface LambdaBundle {
  /** Directory to deploy: `index.mjs` (the handler is `index.handler`) and its license notices. */
  readonly dir: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Bundled bytes per package (`express`, `@aws-sdk/client-sts`, `keyhole` for this package's own code). */
  readonly packages: readonly { readonly name: string; readonly bytes: number }[];
}

function packageOf(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at === -1) return 'keyhole';
  const [scope, name] = path.slice(at + 'node_modules/'.length).split('/');
  return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
}

/** Builds the Lambda bundle into `dir` (emptied first). Deterministic: the same sources give the same bytes. */
export function bundleLambda(dir: string): LambdaBundle {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const result = buildSync({
    absWorkingDir: REPO_ROOT,
    entryPoints: [LAMBDA_ENTRY],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'esm',
    minify: true,
    treeShaking: true,
    metafile: true,
    sourcemap: false,
    // Apache-2.0 and MIT notices of the bundled packages travel next to the code.
    legalComments: 'linked',
    mainFields: ['module', 'main'],
    // CommonJS dependencies (express, pino) call require() for Node built-ins.
    banner: { js: "import{createRequire as __kh_cr}from'node:module';const require=__kh_cr(import.meta.url);" },
    logLevel: 'error',
  });
  const packages = new Map<string, number>();
  const meta: Metafile = result.metafile!;
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      packages.set(packageOf(input), (packages.get(packageOf(input)) ?? 0) + bytesInOutput);
    }
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const code = readFileSync(file);
  return {
    dir,
    file,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    packages: [...packages]
      .map(([name, bytes]) => ({ name, bytes }))
      .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name)),
  };
}
