import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, visit } from 'yaml';
import type { AdapterModule } from '../ports/adapter-module';
import type { Env } from './env-refs';
import { ConfigError, fromZodIssue, type ConfigIssue } from './issues';
import { normaliseConfig } from './normalise';
import { parsePartially } from './partial-parse';
import { jitbotJsonSchema, jitbotSchema } from './schema';
import type { JitbotConfig } from './types';

export { ConfigError, formatWarningLine, type ConfigIssue } from './issues';
export { jitbotJsonSchema };

export const DEFAULT_CONFIG_PATH = 'jitbot.yaml';
export const DEMO_SOURCE = 'built-in demo config';

/** Reads a file as UTF-8 text; returns undefined or throws an ENOENT error when it does not exist. */
export type ReadConfigFile = (path: string) => string | undefined;

const readFromDisk: ReadConfigFile = (path) => readFileSync(path, 'utf8');

/** What a config is checked against. */
export interface ConfigContext {
  env: Env;
  /** The chat adapters this jitbot has (adapters/index.ts); each brings its `adapters.<name>` section. */
  adapters: readonly AdapterModule[];
  /**
   * Check without the environment (`config validate --offline`, CI): secret references are checked for their
   * form only. The resulting config has empty secrets and is for checking only, never for running.
   */
  offline?: boolean;
}

export interface LoadConfigOptions extends ConfigContext {
  /** Explicit config path (e.g. `--config`); wins over `env.JITBOT_CONFIG`. */
  path?: string | undefined;
  /** Default: the local file system (relative paths from the working directory). */
  readFile?: ReadConfigFile;
}

export interface LoadedConfig {
  config: JitbotConfig;
  /** The file path, or "built-in demo config". */
  source: string;
  /** Things that work but are probably not meant; print them, they do not reject the config. */
  warnings: ConfigIssue[];
}

export interface CheckedConfig {
  /** Absent when there is any problem. */
  config?: JitbotConfig;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

/**
 * Loads and checks the configuration. Path: explicit, else `env.JITBOT_CONFIG`, else `./jitbot.yaml` when it
 * exists, else the built-in demo of the fallback adapter. Throws ConfigError listing every problem, one per line.
 */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const readFile = options.readFile ?? readFromDisk;
  const chosen = nonEmpty(options.path) ?? nonEmpty(options.env.JITBOT_CONFIG);
  if (chosen !== undefined) {
    const text = readIfExists(readFile, chosen);
    if (text === undefined) throw new ConfigError(chosen, [{ path: '', message: 'file not found' }]);
    return loadText(text, chosen, options);
  }
  const text = readIfExists(readFile, DEFAULT_CONFIG_PATH);
  if (text !== undefined) return loadText(text, DEFAULT_CONFIG_PATH, options);
  const demo = options.adapters.find((module) => module.fallback)?.fallback?.demoConfig;
  if (demo === undefined) {
    throw new ConfigError(DEFAULT_CONFIG_PATH, [
      { path: '', message: 'file not found (pass --config <file> or set JITBOT_CONFIG)' },
    ]);
  }
  return loadText(demo, DEMO_SOURCE, options);
}

function loadText(text: string, source: string, context: ConfigContext): LoadedConfig {
  const { config, issues, warnings } = checkConfigText(text, context);
  if (!config) throw new ConfigError(source, issues, warnings);
  return { config, source, warnings };
}

/** Parses and checks config text; `source` names it in error messages. Throws ConfigError. */
export function parseConfigText(text: string, source: string, context: ConfigContext): JitbotConfig {
  return loadText(text, source, context).config;
}

/**
 * Every problem of config text at once: YAML syntax errors, or else the file's shape problems together with the
 * checks across fields, which run on the parts whose shape is right.
 */
export function checkConfigText(text: string, context: ConfigContext): CheckedConfig {
  const yaml = parseYaml(text);
  if (!yaml.ok) return { issues: yaml.issues, warnings: [] };
  const raw = yaml.value;
  const parsed = parsePartially(
    jitbotSchema(context.adapters),
    raw,
    jitbotSchema(context.adapters, { minimums: false }),
  );
  const shapeIssues = parsed.issues.flatMap((issue) => fromZodIssue(issue, raw));
  if (!parsed.data) return { issues: shapeIssues, warnings: [] };
  const normalised = normaliseConfig(parsed.data, { ...context, parsed });
  const issues = [...shapeIssues, ...normalised.issues];
  return issues.length > 0 ? { issues, warnings: normalised.warnings } : normalised;
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

type YamlResult = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

/**
 * YAML text → plain data. Syntax errors carry line and column; their messages are cut to the first line
 * because the parser can append a snippet of the source, which could contain a secret. A number written with
 * leading zeros (`012345678901`, an account id) stays text, as written.
 */
function parseYaml(text: string): YamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((error): ConfigIssue => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: `YAML syntax error: ${message}`, line, column: col };
      }),
    };
  }
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && /^0\d+$/.test(node.source ?? '')) node.value = node.source;
    },
  });
  try {
    // An empty file is an empty config: every default applies.
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) ?? {} };
  } catch (error) {
    return { ok: false, issues: [{ path: '', message: `YAML error: ${(error as Error).message.split('\n')[0]}` }] };
  }
}
