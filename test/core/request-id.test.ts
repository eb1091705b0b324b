import fc from 'fast-check';
import { REQUEST_ID_ALPHABET, formatRequestId, isRequestId, normaliseRequestId } from '../../src/core/request-id';

const fourOrMoreBytes = fc.uint8Array({ minLength: 4, maxLength: 16 });

/** Test-side decoder: the 25 bits an id carries. */
function bitsOf(id: string): number {
  let bits = 0;
  for (const char of id.slice(4)) bits = bits * 32 + REQUEST_ID_ALPHABET.indexOf(char);
  return bits;
}

function top25Bits(bytes: Uint8Array): number {
  return Math.floor((bytes[0]! * 2 ** 24 + bytes[1]! * 2 ** 16 + bytes[2]! * 2 ** 8 + bytes[3]!) / 2 ** 7);
}

describe('formatRequestId', () => {
  test.each([
    [[0, 0, 0, 0], 'JIT-00000'],
    [[0xff, 0xff, 0xff, 0xff], 'JIT-ZZZZZ'],
    [[0x08, 0x86, 0x42, 0x80], 'JIT-12345'],
    [[0xf8, 0x3e, 0x0f, 0xff], 'JIT-Z0Z0Z'],
    [[0x08, 0x86, 0x42, 0x80, 0xff, 0xff], 'JIT-12345'],
  ])('%j → %s', (bytes, id) => {
    expect(formatRequestId(Uint8Array.from(bytes))).toBe(id);
  });

  test('refuses fewer than 4 random bytes', () => {
    expect(() => formatRequestId(Uint8Array.from([1, 2, 3]))).toThrow(RangeError);
  });

  test('the alphabet is Crockford base32: 32 distinct characters, no I, L, O or U', () => {
    expect(REQUEST_ID_ALPHABET).toHaveLength(32);
    expect(new Set(REQUEST_ID_ALPHABET).size).toBe(32);
    expect(REQUEST_ID_ALPHABET).toMatch(/^[0-9A-Z]+$/);
    expect(REQUEST_ID_ALPHABET).not.toMatch(/[ILOU]/);
  });

  test('every id is canonical, uses only the alphabet and carries the top 25 random bits', () => {
    fc.assert(
      fc.property(fourOrMoreBytes, (bytes) => {
        const id = formatRequestId(bytes);
        expect(id).toMatch(/^JIT-[0-9A-HJKMNP-TV-Z]{5}$/);
        expect(isRequestId(id)).toBe(true);
        expect(bitsOf(id)).toBe(top25Bits(bytes));
      }),
    );
  });

  test('normalising what a person might type gives back the id', () => {
    fc.assert(
      fc.property(fourOrMoreBytes, (bytes) => {
        const id = formatRequestId(bytes);
        const body = id.slice(4);
        for (const typed of [id, id.toLowerCase(), body, body.toLowerCase(), `JIT${body}`, `  ${id}\u3000`]) {
          expect(normaliseRequestId(typed)).toBe(id);
        }
      }),
    );
  });
});

describe('normaliseRequestId', () => {
  test.each([
    ['JIT-7K3Q2', 'JIT-7K3Q2'],
    ['jit-7k3q2', 'JIT-7K3Q2'],
    ['Jit-7K3q2', 'JIT-7K3Q2'],
    ['7k3q2', 'JIT-7K3Q2'],
    ['jit7k3q2', 'JIT-7K3Q2'],
    [' JIT-7K3Q2 ', 'JIT-7K3Q2'],
    ['ＪＩＴ－７Ｋ３Ｑ２', 'JIT-7K3Q2'],
    ['JIT-7K3QO', 'JIT-7K3Q0'],
    ['jit-iloo1', 'JIT-11001'],
  ])('%j → %s', (typed, id) => {
    expect(normaliseRequestId(typed)).toBe(id);
  });

  test.each([
    '',
    'JIT-',
    'JIT-7K3Q',
    'JIT-7K3Q22',
    'JIT-7K3QU',
    'JIT-7K-3Q',
    'JIT 7K3Q2',
    'XYZ-7K3Q2',
    'JIT-7K3Q!',
    'web-1',
  ])('%j is not a request id', (typed) => {
    expect(normaliseRequestId(typed)).toBeUndefined();
  });

  test('never throws; whatever it accepts is canonical and normalises to itself', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme' }),
          fc.string({ unit: 'binary' }),
          fc.stringMatching(/^([Jj][Ii][Tt]-?)?[0-9A-Za-z]{5}$/),
        ),
        (typed) => {
          const id = normaliseRequestId(typed);
          if (id !== undefined) {
            expect(isRequestId(id)).toBe(true);
            expect(normaliseRequestId(id)).toBe(id);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('isRequestId', () => {
  test.each([
    ['JIT-7K3Q2', true],
    ['JIT-00000', true],
    ['jit-7k3q2', false],
    ['7K3Q2', false],
    ['JIT-7K3QU', false],
    ['JIT-7K3QO', false],
    ['JIT-7K3Q2 ', false],
    ['JIT-7K3Q22', false],
  ])('%j → %s', (text, expected) => {
    expect(isRequestId(text)).toBe(expected);
  });
});
