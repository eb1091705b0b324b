import type { IamProblem } from '../core/model';

// Turns an error thrown by the granter into what people are told: a known condition ("IAM throttled") or a short
// message. The granter wraps AWS SDK errors (the SDK error is the `cause`), so the whole cause chain is read.
// Messages come from the granter, which never puts credentials in them; they are cut short for cards.

const MESSAGE_MAX = 200;
const THROTTLED = /throttl|toomanyrequests|requestlimitexceeded|slowdown|rate exceeded/i;
const UNAVAILABLE = /^(ServiceFailure|ServiceUnavailable|InternalFailure|InternalError|ServiceUnavailableException)$/;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const UNREACHABLE_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);

interface ErrorFacts {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

function chain(error: unknown): ErrorFacts[] {
  const links: ErrorFacts[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && links.length < 5) {
    links.push(current as ErrorFacts);
    current = (current as ErrorFacts).cause;
  }
  return links;
}

export function describeIamFailure(error: unknown): IamProblem {
  const links = chain(error);
  if (links.some((e) => THROTTLED.test(e.name ?? '') || THROTTLED.test(e.message ?? ''))) return { code: 'throttled' };
  if (links.some((e) => UNAVAILABLE.test(e.name ?? '') || (e.$metadata?.httpStatusCode ?? 0) >= 500))
    return { code: 'unavailable' };
  if (links.some((e) => UNREACHABLE_CODES.has(e.code ?? '') || UNREACHABLE_NAMES.has(e.name ?? '')))
    return { code: 'unreachable' };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'error', message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 1)}…` : message };
}
