/**
 * One log line from what a platform SDK passes its logger. Only strings and Error messages pass: SDKs log whole
 * request configs and responses on failure, and those carry app secrets and bearer tokens. Anything else is
 * replaced by "[details omitted]"; nested arrays are flattened first.
 */
export function sdkLogLine(parts: readonly unknown[]): string {
  return parts
    .flat(Number.POSITIVE_INFINITY)
    .map((part) => (typeof part === 'string' ? part : part instanceof Error ? part.message : '[details omitted]'))
    .join(' ');
}
