// The oldest Node.js jitbot runs on (package.json `engines`). Kept free of imports: the `jitbot` entry point
// checks it before loading anything else, so an older Node gets one clear line instead of a stack trace.

export const MINIMUM_NODE = { major: 22, minor: 12 } as const;

/** Why this Node.js version cannot run jitbot, or undefined when it can. `version` is `process.versions.node`. */
export function nodeVersionProblem(version: string): string | undefined {
  const [major = NaN, minor = NaN] = version.split('.').map(Number);
  const { major: needMajor, minor: needMinor } = MINIMUM_NODE;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return (
    `jitbot needs Node.js ${needMajor}.${needMinor} or newer, but this is Node.js ${version}. ` +
    `Install Node ${needMajor} LTS (for example \`nvm install\` in the jitbot folder, which reads .nvmrc).`
  );
}
