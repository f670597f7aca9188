// clientAddressKey for every way of writing an IPv6 address: a client must not get a fresh budget
// by having its address spelt differently (zero runs compressed anywhere, leading zeros, upper
// case, a zone id, an IPv4-style tail). The oracle is independent of the code: the key is the
// first four groups of the address, as numbers, written in lower-case hex without leading zeros.
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddressKey } from '../../server/http/rate-limit.js';

const expectedKey = (groups: readonly number[]) =>
  `ip6:${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;

interface Spelling {
  readonly compress: { from: number; length: number } | undefined; // a run of zero groups written as "::"
  readonly dottedTail: boolean; // the last two groups written as a.b.c.d
  readonly upper: boolean;
  readonly pad: readonly boolean[]; // per group: written with leading zeros to 4 digits
  readonly zone: string | undefined;
}

function spell(groups: readonly number[], s: Spelling): string {
  const hex = (g: number, i: number) => {
    const h = s.pad[i] ? g.toString(16).padStart(4, '0') : g.toString(16);
    return s.upper ? h.toUpperCase() : h;
  };
  const dotted = s.dottedTail && (!s.compress || s.compress.from + s.compress.length <= 6);
  const words: string[] = groups.slice(0, dotted ? 6 : 8).map(hex);
  const tail = dotted ? [`${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`] : [];
  let text: string;
  if (s.compress) {
    const { from, length } = s.compress;
    const left = words.slice(0, from);
    const right = [...words.slice(from + length), ...tail];
    text = `${left.join(':')}::${right.join(':')}`;
  } else {
    text = [...words, ...tail].join(':');
  }
  return s.zone ? `${text}%${s.zone}` : text;
}

// Addresses in ::ffff:0:0/96 (IPv4-mapped) are keyed by their IPv4 address; they are covered by
// the example tests in rate-limit.property.test.ts and left out here.
const mapped = (g: readonly number[]) => g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;

const addressAndSpelling = fc
  .record({
    groups: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    run: fc.option(
      fc
        .integer({ min: 0, max: 7 })
        .chain((from) => fc.record({ from: fc.constant(from), length: fc.integer({ min: 1, max: 8 - from }) })),
      { nil: undefined },
    ),
    dottedTail: fc.boolean(),
    upper: fc.boolean(),
    pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    zone: fc.option(fc.constantFrom('eth0', '1', 'en0'), { nil: undefined }),
  })
  .map(({ groups, run, ...rest }) => {
    // Zero the run that will be written as "::", so the address really has it.
    const g = groups.map((x, i) => (run && i >= run.from && i < run.from + run.length ? 0 : x));
    return { groups: g, spelling: { ...rest, compress: run } as Spelling };
  })
  .filter(({ groups }) => !mapped(groups));

describe('clientAddressKey: one /64, however the address is written', () => {
  it('any spelling of an IPv6 address gives the key of its first four groups', () => {
    fc.assert(
      fc.property(addressAndSpelling, ({ groups, spelling }) => {
        const text = spell(groups, spelling);
        // The generator only writes valid addresses (zone ids aside, which isIPv6 also accepts).
        expect(isIPv6(text)).toBe(true);
        expect(clientAddressKey(text)).toBe(expectedKey(groups));
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    // "::" inside the first four groups, with the rest of the groups after it.
    ['1::3:4:5:6:7:8', 'ip6:1:0:3:4::/64'],
    ['1:2::4:5:6:7:8', 'ip6:1:2:0:4::/64'],
    ['2001::5:6:7:8', 'ip6:2001:0:0:0::/64'],
    ['::2:3:4:5:6:7:8', 'ip6:0:2:3:4::/64'],
    // The same, with the last two groups written as an IPv4 tail (it stands for two groups).
    ['1::3:4:5:6:0.7.0.8', 'ip6:1:0:3:4::/64'],
    ['1:2::4:5:6:1.2.3.4', 'ip6:1:2:0:4::/64'],
    ['::2:3:4:5:6:1.2.3.4', 'ip6:0:2:3:4::/64'],
    ['1::1.2.3.4', 'ip6:1:0:0:0::/64'],
    // The fully written forms of the first two.
    ['1:0:3:4:5:6:7:8', 'ip6:1:0:3:4::/64'],
    ['1:0:3:4:5:6:0.7.0.8', 'ip6:1:0:3:4::/64'],
  ])('%s counts as %s', (ip, key) => {
    expect(clientAddressKey(ip)).toBe(key);
  });
});
