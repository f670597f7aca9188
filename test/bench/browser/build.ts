// Bundles the browser bench page (page.ts) with vite into a temporary directory. `keyhole/client`
// resolves to the library's source in this checkout, as in the web app's build.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Builds the page; `clientEntry` overrides where `keyhole/client` comes from (for comparisons). */
export async function buildBenchPage(
  clientEntry = fileURLToPath(new URL('../../../client/index.ts', import.meta.url)),
): Promise<{ dir: string; remove(): void }> {
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-bench-page-'));
  await build({
    configFile: false,
    root: HERE,
    base: './',
    resolve: {
      alias: {
        'keyhole/client': clientEntry,
        'keyhole/amplify': fileURLToPath(new URL('../../../client/amplify/index.ts', import.meta.url)),
      },
    },
    build: { outDir: dir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
    logLevel: 'error',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
