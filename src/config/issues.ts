import type { z } from 'zod';
import { UNKNOWN_KEY_HINTS } from './schema';

// Configuration problems as people should read them: `file: key.path[2].name: what was expected`.
// Messages describe the expected shape and, for non-secret fields, the offending text; never a secret value.

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  /** Key path, e.g. `policies[2].levels[0].required`; empty for the file as a whole. */
  path: string;
  message: string;
  /** For YAML syntax errors: 1-based position in the file. */
  line?: number;
  column?: number;
}

/** Every problem of a config, one line each, followed by its warnings. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
    readonly warnings: readonly ConfigIssue[] = [],
  ) {
    super(
      [
        ...issues.map((issue) => formatIssueLine(source, issue)),
        ...warnings.map((warning) => formatWarningLine(source, warning)),
      ].join('\n'),
    );
  }
}

export function formatIssueLine(source: string, issue: ConfigIssue): string {
  const position = issue.line !== undefined ? `:${issue.line}:${issue.column ?? 1}` : '';
  const path = issue.path ? ` ${issue.path}:` : '';
  return `${source}${position}:${path} ${issue.message}`;
}

/** Warnings are printed but do not reject the config. */
export function formatWarningLine(source: string, warning: ConfigIssue): string {
  return formatIssueLine(source, { ...warning, message: `warning: ${warning.message}` });
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && SIMPLE_KEY.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

export function issueAt(path: readonly PropertyKey[], message: string): ConfigIssue {
  return { path: formatPath(path), message };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValueType(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return 'true/false';
  return `a ${typeof value}`;
}

const EXPECTED_TYPE: Record<string, string> = {
  object: 'a mapping (key: value)',
  array: 'a list',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** zod's own wording; anything else is a message written in schema.ts and is shown as is. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too small|Too big|Unrecognized key)/;

function sizeExpectation(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const word = small ? 'at least' : 'at most';
  switch (issue.origin) {
    case 'array':
    case 'set':
      return `expected ${word} ${bound} item${bound === 1 ? '' : 's'}`;
    case 'string':
      return `expected ${word} ${bound} character${bound === 1 ? '' : 's'}`;
    default:
      return `expected a number ${small ? '≥' : '≤'} ${bound}`;
  }
}

/** Turns one zod issue into one or more readable issues. `raw` is the parsed YAML, used to tell "missing" from "wrong type". */
export function fromZodIssue(issue: z.core.$ZodIssue, raw: unknown): ConfigIssue[] {
  const path = issue.path;
  const value = valueAt(raw, path);
  const custom = !ZOD_DEFAULT_MESSAGE.test(issue.message);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const full = formatPath([...path, key]);
        const hint = UNKNOWN_KEY_HINTS[full];
        return {
          path: full,
          message: hint ? `unknown key: ${hint}` : 'unknown key (check the spelling; see docs/config.md)',
        };
      });
    case 'invalid_type': {
      const expected = custom ? issue.message : `expected ${EXPECTED_TYPE[issue.expected] ?? issue.expected}`;
      if (value === undefined) return [issueAt(path, `required: ${expected}`)];
      return [issueAt(path, custom ? expected : `${expected}, got ${describeValueType(value)}`)];
    }
    case 'invalid_union':
      if (value === undefined && !custom) return [issueAt(path, 'required')];
      if (value === undefined) return [issueAt(path, `required: ${issue.message}`)];
      return [issueAt(path, custom ? issue.message : 'has the wrong form (see docs/config.md)')];
    case 'invalid_value':
      if (custom) return [issueAt(path, issue.message)];
      return [issueAt(path, `expected one of ${issue.values.map((v) => String(v)).join(', ')}`)];
    case 'too_small':
    case 'too_big':
      return [issueAt(path, custom ? issue.message : sizeExpectation(issue))];
    default:
      return [issueAt(path, custom ? issue.message : 'has the wrong format (see docs/config.md)')];
  }
}
