// `npm run test:unit` must pass with the local stack down: no file it runs may reach for the stack's
// settings, its brokers or its state folder, directly or through a local helper it imports.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STACK_ONLY = [/helpers\/stack\.js/, /helpers\/broker\.js/, /helpers\/stranger\.js/, /\.local\//];

/** Test files and the test-side modules they import, transitively (not server/ or client/ code). */
function testModules(): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    // Type-only imports and re-exports are erased when the test runs, so they reach nothing.
    const code = readFileSync(file, 'utf8').replace(/(?:import|export)\s+type\s[^;]*?from\s+'[^']+';?/g, '');
    for (const [, spec] of code.matchAll(/from '(\.[^']+)'/g)) {
      const target = resolve(dirname(file), spec!.replace(/\.js$/, '.ts'));
      if (target.startsWith(join(ROOT, 'test')) && target.endsWith('.ts')) visit(target);
    }
  };
  for (const dir of ['test/unit', 'test/property']) {
    for (const name of readdirSync(join(ROOT, dir))) if (name.endsWith('.ts')) visit(join(ROOT, dir, name));
  }
  return [...seen];
}

describe('npm run test:unit stands alone', () => {
  it('no unit or property test, nor a helper they import, uses the local stack', () => {
    const offenders = testModules().flatMap((file) => {
      const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
      return STACK_ONLY.filter((p) => p.test(text)).map((p) => `${file.slice(ROOT.length)}: ${p.source}`);
    });
    expect(offenders).toEqual([]);
  });
});
