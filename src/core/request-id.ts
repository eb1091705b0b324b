// Short request ids people can read aloud and type: JIT- followed by 5 Crockford base32 characters
// (0-9 and A-Z without I, L, O, U), 25 random bits. The caller supplies the random bytes (core has no randomness)
// and must store new requests with a conditional put and retry on a collision: 2^25 ids is not a huge space.

export const REQUEST_ID_PREFIX = 'JIT-';
export const REQUEST_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** How many random bytes formatRequestId reads. */
export const REQUEST_ID_RANDOM_BYTES = 4;

const BODY_LENGTH = 5;
const CANONICAL_ID = /^JIT-[0-9A-HJKMNP-TV-Z]{5}$/;
/** Optional prefix (hyphen optional), then exactly five letters or digits; checked against the alphabet afterwards. */
const TYPED_ID = /^(?:JIT-?)?([0-9A-Z]{5})$/;
/** Crockford's decoding rule: letters easily mistaken for digits are read as those digits. */
const LOOKALIKES: Record<string, string> = { I: '1', L: '1', O: '0' };

/** `JIT-XXXXX` from the first 4 bytes of `randomBytes` (its top 25 bits). */
export function formatRequestId(randomBytes: Uint8Array): string {
  if (randomBytes.length < REQUEST_ID_RANDOM_BYTES) {
    throw new RangeError(`formatRequestId needs ${REQUEST_ID_RANDOM_BYTES} random bytes, got ${randomBytes.length}`);
  }
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = randomBytes;
  const bits = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  let body = '';
  for (let i = 0; i < BODY_LENGTH; i++) body += REQUEST_ID_ALPHABET[(bits >>> (27 - 5 * i)) & 31];
  return REQUEST_ID_PREFIX + body;
}

/** True only for the canonical form `JIT-XXXXX` (upper case). Use normaliseRequestId for anything a person typed. */
export function isRequestId(text: string): boolean {
  return CANONICAL_ID.test(text);
}

/**
 * The canonical id for what a person typed, or undefined if it is not one. Accepted: any case, surrounding
 * whitespace, full-width characters (NFKC), the `JIT-` prefix with or without its hyphen or left out entirely
 * (`7k3q2` → `JIT-7K3Q2`), and I/L/O for 1/1/0. U is never valid.
 */
export function normaliseRequestId(text: string): string | undefined {
  const match = TYPED_ID.exec(text.normalize('NFKC').trim().toUpperCase());
  if (!match) return undefined;
  let body = '';
  for (const char of match[1]!) {
    const digit = LOOKALIKES[char] ?? char;
    if (!REQUEST_ID_ALPHABET.includes(digit)) return undefined;
    body += digit;
  }
  return REQUEST_ID_PREFIX + body;
}
