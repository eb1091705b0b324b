import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { DEMO_CONFIG_YAML, DEMO_SOURCE } from './demo';
import type { Env } from './env-refs';
import { ConfigError, fromZodIssue, type ConfigIssue } from './issues';
import { normaliseConfig } from './normalise';
import { jitbotSchema } from './schema';
import type { JitbotConfig } from './types';

export { ConfigError, type ConfigIssue } from './issues';
export { jitbotJsonSchema } from './schema';

export const DEFAULT_CONFIG_PATH = 'jitbot.yaml';

/** Reads a file as UTF-8 text; returns undefined or throws an ENOENT error when it does not exist. */
export type ReadConfigFile = (path: string) => string | undefined;

const readFromDisk: ReadConfigFile = (path) => readFileSync(path, 'utf8');

export interface LoadConfigOptions {
  /** Explicit config path (e.g. `--config`); wins over `env.JITBOT_CONFIG`. */
  path?: string | undefined;
  env: Env;
  /** Default: the local file system (relative paths from the working directory). */
  readFile?: ReadConfigFile;
}

export interface LoadedConfig {
  config: JitbotConfig;
  /** The file path, or "built-in demo config". */
  source: string;
}

/**
 * Loads and checks the configuration. Path: explicit, else `env.JITBOT_CONFIG`, else `./jitbot.yaml` when it
 * exists, else the built-in demo. Throws ConfigError listing every problem, one per line.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const readFile = options.readFile ?? readFromDisk;
  const chosen = nonEmpty(options.path) ?? nonEmpty(options.env.JITBOT_CONFIG);
  if (chosen !== undefined) {
    const text = readIfExists(readFile, chosen);
    if (text === undefined) throw new ConfigError(chosen, [{ path: '', message: 'file not found' }]);
    return { config: parseConfigText(text, chosen, options.env), source: chosen };
  }
  const text = readIfExists(readFile, DEFAULT_CONFIG_PATH);
  if (text !== undefined) return { config: parseConfigText(text, DEFAULT_CONFIG_PATH, options.env), source: DEFAULT_CONFIG_PATH };
  return { config: parseConfigText(DEMO_CONFIG_YAML, DEMO_SOURCE, options.env), source: DEMO_SOURCE };
}

/** Parses and checks config text; `source` names it in error messages. */
export function parseConfigText(text: string, source: string, env: Env): JitbotConfig {
  const raw = parseYaml(text, source);
  const parsed = jitbotSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, parsed.error.issues.flatMap((issue) => fromZodIssue(issue, raw)));
  const { config, issues } = normaliseConfig(parsed.data, env);
  if (!config) throw new ConfigError(source, issues);
  return config;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function readIfExists(readFile: ReadConfigFile, path: string): string | undefined {
  try {
    return readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * YAML text → plain data. Syntax errors carry line and column; their messages are cut to the first line
 * because the parser can append a snippet of the source, which could contain a secret.
 */
function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((error): ConfigIssue => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: `YAML syntax error: ${message}`, line, column: col };
      }),
    );
  }
  try {
    // An empty file is an empty config: every default applies.
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new ConfigError(source, [{ path: '', message: `YAML error: ${(error as Error).message.split('\n')[0]}` }]);
  }
}
