// Text shown on any chat platform as plain characters.

// C0/C1 controls other than tab and newline, plus bidirectional overrides/isolates that can make text read
// differently from what it is (e.g. a reason that appears to say something else).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this regex's job.
const DISGUISING_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** Plain text capped to `max` characters (code points, so emoji are never split), ending in "…" when cut. */
export function renderPlainText(text: string, max: number): string {
  const cleaned = text.replace(/\r\n?/g, '\n').replace(DISGUISING_CHARACTERS, '');
  const codePoints = Array.from(cleaned);
  if (codePoints.length <= max) return cleaned;
  return codePoints.slice(0, Math.max(0, max - 1)).join('') + '…';
}
