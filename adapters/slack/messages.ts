import { BLOCK_KIT_LIMITS, type SectionBlock } from './block-kit';
import { fitText, plainText, safeMrkdwn } from './slack-text';

// Messages made of one text from the core (replies, thread replies, DMs). That text can quote what people
// typed (reasons, comments), so it is shown in plain_text sections; `text` is the escaped notification fallback.

/** Longest text shown; beyond it the message ends in "…". */
export const MAX_MESSAGE_TEXT = 12_000;

export interface TextMessage {
  text: string;
  blocks: SectionBlock[];
}

export function replyMessage(text: string): TextMessage {
  const whole = fitText(text, MAX_MESSAGE_TEXT);
  const chunk = BLOCK_KIT_LIMITS.sectionText;
  const blocks: SectionBlock[] = [];
  for (let start = 0; start < whole.length; start += chunk) {
    blocks.push({ type: 'section', text: plainText(splitSafe(whole, start, start + chunk), chunk) });
  }
  return { text: safeMrkdwn(whole, BLOCK_KIT_LIMITS.fallbackText), blocks };
}

/** A slice that does not start or end in the middle of a surrogate pair. */
function splitSafe(text: string, start: number, end: number): string {
  const isLow = (i: number) => {
    const code = text.charCodeAt(i);
    return code >= 0xdc00 && code <= 0xdfff;
  };
  const from = start > 0 && isLow(start) ? start - 1 : start;
  const to = end < text.length && isLow(end) ? end - 1 : end;
  return text.slice(from, to);
}
