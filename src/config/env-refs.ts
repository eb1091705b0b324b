// Secrets are never written in the config file: the file names an environment variable as `${NAME}` and the
// value is read from the environment at load time. Nothing here ever puts a secret value in a message.

export const ENV_REF_RE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export type Env = Readonly<Record<string, string | undefined>>;

export function envRefName(text: string): string | undefined {
  return ENV_REF_RE.exec(text.trim())?.[1];
}

export type EnvLookup = { ok: true; value: string } | { ok: false; problem: string };

/** Reads `${NAME}` from the environment; an unset or empty variable is a problem that names the variable. */
export function readEnvRef(reference: string, env: Env): EnvLookup {
  const name = envRefName(reference);
  if (name === undefined) return { ok: false, problem: 'expected an environment reference like ${NAME}' };
  const value = env[name];
  if (value === undefined || value === '') return { ok: false, problem: `environment variable ${name} is not set` };
  return { ok: true, value };
}

export function inlineSecretMessage(suggestedName: string): string {
  return `secrets must not be written in the file: move the value to an environment variable and write "\${${suggestedName}}"`;
}
