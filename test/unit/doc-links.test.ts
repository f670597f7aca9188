// Issue 17, point 2: the docs are split into READMEs beside what they describe, so links between them
// are many and easy to break. Every relative link in every Markdown file of the repository must reach
// a file that exists and, when it names an #anchor, a heading of that file; every code block marked
// runnable (test/README.md, "The documentation test") must still run. The parser's own cases are at
// the end, so a checker that accepts everything fails too.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  anchorsOf,
  brokenLink,
  githubSlug,
  linksOf,
  markdownFiles,
  runnableBlocks,
  type CodeBlock,
} from '../helpers/markdown.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const files = markdownFiles(root);

describe('documentation links', () => {
  it('finds the READMEs beside the code, and none under node_modules, dist or .local', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'SECURITY.md',
        'server/README.md',
        'client/README.md',
        'client/amplify/README.md',
        'client/cli/README.md',
        'client/web/README.md',
        'infra/README.md',
        'test/README.md',
        'test/bench/README.md',
      ]),
    );
    expect(files.filter((f) => /(^|\/)(node_modules|dist|\.local)\//.test(f))).toEqual([]);
  });

  it.each(files)('%s: every relative link resolves, anchors included', (file) => {
    const broken = linksOf(read(file)).flatMap((link) => {
      const why = brokenLink(root, file, link.target, read);
      return why === undefined ? [] : [`${file}:${link.line}: ${why}`];
    });
    expect(broken).toEqual([]);
  });
});

/** How a runnable block runs: its language is the first word of the fence's info string. */
function run(block: CodeBlock) {
  const language = block.info.split(/\s+/)[0];
  // npm's update notice ("New major version of npm available") goes to stderr on a machine whose
  // npm is older than the registry's: not the documented command's output. BASH_ENV would run a
  // developer's own startup file under `bash -eu`.
  const { BASH_ENV: _bashEnv, ...inherited } = process.env;
  void _bashEnv;
  const env = {
    ...inherited,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
  };
  const options = { cwd: root, env, encoding: 'utf8' as const, timeout: 60_000 };
  if (language === 'sh') return spawnSync('bash', ['-euo', 'pipefail', '-c', block.code], options);
  if (language === 'js') return spawnSync(process.execPath, ['--input-type=module', '-e', block.code], options);
  throw new Error(`runnable block of line ${block.line}: language "${language}" is not sh or js`);
}

const runnable = files.flatMap((file) => runnableBlocks(read(file)).map((block) => ({ file, block })));

describe('runnable code blocks', () => {
  it('some are marked (the command, the client module and the broker each have one)', () => {
    expect([...new Set(runnable.map((r) => r.file))].sort()).toEqual(
      expect.arrayContaining(['client/README.md', 'client/cli/README.md', 'server/README.md']),
    );
  });

  it.each(runnable.map((r) => [`${r.file}:${r.block.line}`, r.block] as const))(
    '%s runs: exit 0, output on stdout, nothing on stderr',
    (_, block) => {
      const out = run(block);
      expect(out.error).toBeUndefined();
      expect(out.stderr).toBe('');
      expect(out.status).toBe(0);
      expect(out.stdout.trim()).not.toBe('');
    },
  );
});

describe('the Markdown checker', () => {
  it('makes GitHub anchors, numbering repeated headings', () => {
    expect(githubSlug('Cognito identity pools (`KEYHOLE_VENDOR=cognito`)')).toBe(
      'cognito-identity-pools-keyhole_vendorcognito',
    );
    expect(githubSlug('Quick start (Debian or Ubuntu, as root or with sudo; Node ≥ 20.19)')).toBe(
      'quick-start-debian-or-ubuntu-as-root-or-with-sudo-node--2019',
    );
    expect(githubSlug('The [`keyhole`](x.md) command')).toBe('the-keyhole-command');
    expect([...anchorsOf('# A\n## Tests\n```sh\n# not a heading\n```\n### Tests\n<a id="here"></a>')]).toEqual([
      'a',
      'tests',
      'tests-1',
      'here',
    ]);
  });

  it('finds links outside code only, images and HTML included', () => {
    const doc = [
      'See [a](a.md#x) and ![img](pic.png "title"), `[not](code.md)`.',
      '<img src="shot.png" width="10"> <a href="b.md">b</a>',
      '```md',
      '[inside](fence.md)',
      '```',
      '[ref]: ref.md',
    ].join('\n');
    expect(linksOf(doc).map((l) => [l.target, l.line])).toEqual([
      ['a.md#x', 1],
      ['pic.png', 1],
      ['shot.png', 2],
      ['b.md', 2],
      ['ref.md', 6],
    ]);
  });

  it('reports a missing file, a missing anchor, and a link out of the repository', () => {
    const tree: Record<string, string> = { 'README.md': '# Top\n## Install\n', 'docs/x.md': '# X\n', 'pic.png': '' };
    const check = (from: string, target: string) =>
      brokenLink(
        '/repo',
        from,
        target,
        (p) => tree[p] ?? '',
        (p) => p in tree || p === 'docs',
      );
    expect(check('docs/x.md', '../README.md#install')).toBeUndefined();
    expect(check('README.md', '#install')).toBeUndefined();
    expect(check('README.md', 'docs')).toBeUndefined();
    expect(check('README.md', 'pic.png#L3')).toBeUndefined();
    expect(check('README.md', 'https://example.com/nope')).toBeUndefined();
    expect(check('README.md', '#instal')).toMatch(/no heading with the anchor #instal/);
    expect(check('docs/x.md', 'README.md')).toMatch(/no such file \(docs\/README\.md\)/);
    expect(check('docs/x.md', '../README.md#x')).toMatch(/README\.md has no heading/);
    expect(check('README.md', '../outside.md')).toMatch(/leaves the repository/);
  });

  it('takes only blocks marked runnable, and runs one that fails as failing', () => {
    const doc = '```sh runnable\nexit 3\n```\n\n```sh\necho not marked\n```\n\n```js runnable\nconsole.log(1)\n```';
    const blocks = runnableBlocks(doc);
    expect(blocks.map((b) => [b.info, b.code, b.line])).toEqual([
      ['sh runnable', 'exit 3', 1],
      ['js runnable', 'console.log(1)', 9],
    ]);
    expect(run(blocks[0]!).status).toBe(3);
    expect(run(blocks[1]!).stdout).toBe('1\n');
    expect(() => run({ info: 'py runnable', code: '', line: 1 })).toThrow(/not sh or js/);
  });
});
