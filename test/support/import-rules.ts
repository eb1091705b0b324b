import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { parseSync } from '@swc/core';

// Which way imports may run between the layers of jitbot (see README, Architecture). The sources are parsed with
// swc (already the test transform), so every form counts: `import`, `import type`, `export … from`, `require()`,
// `import()`, `import x = require()` and `import('…').T` in type positions.

export interface ImportRef {
  /** Repository-relative, `/`-separated. */
  file: string;
  line: number;
  /** As written; undefined for a computed `import(expr)` / `require(expr)`. */
  specifier: string | undefined;
  /** Erased at compile time (`import type`, `export type`, all-`type` specifiers, `import('x').T`): no code runs. */
  typeOnly: boolean;
}

export interface Violation extends ImportRef {
  rule: string;
}

export interface SourceFile {
  /** Repository-relative, `/`-separated. */
  path: string;
  text: string;
}

type Target = (
  | { kind: 'builtin'; name: string }
  | { kind: 'package'; name: string }
  /** A repository path without extension, e.g. `src/core/model`. */
  | { kind: 'local'; path: string }
  | { kind: 'unchecked'; why: string }
) & { typeOnly?: boolean };

interface Layer {
  rule: string;
  allows(target: Target): boolean;
}

/** Node built-ins the pure core may use (hashing for the audit chain); nothing that does I/O. */
const PURE_BUILTINS = new Set(['node:crypto']);
const COMPOSITION_ROOT = ['src/app', 'src/wiring', 'src/cli'];

const under = (target: Target, ...dirs: string[]): boolean =>
  target.kind === 'local' && dirs.some((dir) => target.path === dir || target.path.startsWith(`${dir}/`));
const external = (target: Target): boolean => target.kind === 'builtin' || target.kind === 'package';

/** What an adapter may use besides its own folder: the ports, the core, the HTTP server it mounts on, adapters/shared. */
const ADAPTER_BASE = ['src/ports', 'src/core', 'src/http', 'adapters/shared'];

/** The layer a file belongs to, or undefined when no rule constrains it (config, store, cli, app, wiring, …). */
export function layerOf(file: string): Layer | undefined {
  const parts = file.split('/');
  if (file.startsWith('src/core/')) {
    return {
      rule: `src/core is pure: it imports only src/core (and ${[...PURE_BUILTINS].join(', ')})`,
      allows: (t) => under(t, 'src/core') || (t.kind === 'builtin' && PURE_BUILTINS.has(t.name)),
    };
  }
  if (file.startsWith('src/ports/')) {
    return {
      rule: 'src/ports imports only src/core and src/ports (and library types: `import type` from npm packages)',
      allows: (t) => under(t, 'src/core', 'src/ports') || (t.kind === 'package' && t.typeOnly === true),
    };
  }
  if (file.startsWith('src/http/')) {
    return {
      rule: 'src/http (the server adapters mount on) imports only src/http, node built-ins and npm packages',
      allows: (t) => under(t, 'src/http') || external(t),
    };
  }
  if (file.startsWith('src/services/')) {
    return {
      rule: 'src/services do not import adapters, src/aws or the composition root',
      allows: (t) => !under(t, 'adapters', 'src/aws', ...COMPOSITION_ROOT),
    };
  }
  if (file.startsWith('src/aws/')) {
    return {
      rule: 'src/aws does not import src/services, adapters or the composition root',
      allows: (t) => !under(t, 'src/services', 'adapters', ...COMPOSITION_ROOT),
    };
  }
  if (file.startsWith('src/config/')) {
    return {
      rule: 'src/config does not import src/aws, src/services, src/store, src/http or the composition root',
      allows: (t) => !under(t, 'src/aws', 'src/services', 'src/store', 'src/http', ...COMPOSITION_ROOT),
    };
  }
  if (file.startsWith('src/store/') || file.startsWith('src/inventory/')) {
    return {
      rule: `${parts.slice(0, 2).join('/')} implements a port: it does not import src/services, src/aws, adapters or the composition root`,
      allows: (t) => !under(t, 'src/services', 'src/aws', 'adapters', ...COMPOSITION_ROOT),
    };
  }
  if (parts[0] === 'adapters' && parts.length === 2) {
    if (file === 'adapters/index.ts') {
      return {
        rule: 'adapters/index.ts imports only adapter folders, adapters/shared, src/ports, src/core, src/http and npm packages',
        allows: (t) => under(t, 'adapters', ...ADAPTER_BASE) || external(t),
      };
    }
    return {
      rule: `adapters/${parts[1]} imports only ${ADAPTER_BASE.join(', ')} and npm packages`,
      allows: (t) =>
        under(t, ...ADAPTER_BASE) || (t.kind === 'local' && /^adapters\/[^/]+$/.test(t.path)) || external(t),
    };
  }
  if (parts[0] === 'adapters') {
    const own = `adapters/${parts[1]}`;
    return {
      rule: `${own} imports only its own folder, ${ADAPTER_BASE.join(', ')} and npm packages`,
      allows: (t) => under(t, own, ...ADAPTER_BASE) || external(t),
    };
  }
  return undefined;
}

/** Every import of one source file. */
export function importsOf(file: string, text: string): ImportRef[] {
  const module = parseSync(text, { syntax: 'typescript', target: 'es2022' });
  const bytes = Buffer.from(text);
  // swc spans are 1-based byte offsets into this source.
  const lineAt = (spanStart: number) =>
    bytes
      .subarray(0, Math.max(0, spanStart - 1))
      .toString()
      .split('\n').length;
  const found: ImportRef[] = [];
  const add = (node: { span?: { start: number } }, specifier: string | undefined, typeOnly = false) =>
    found.push({ file, line: lineAt(node.span?.start ?? 0), specifier, typeOnly });
  const allTypes = (specifiers: { type: string; isTypeOnly?: boolean }[]) =>
    specifiers.length > 0 && specifiers.every((s) => s.type === 'ImportSpecifier' && s.isTypeOnly);
  const literal = (node: unknown): string | undefined => {
    const n = node as
      | { type?: string; value?: unknown; quasis?: { cooked?: string }[]; expressions?: unknown[] }
      | undefined;
    if (n?.type === 'StringLiteral' && typeof n.value === 'string') return n.value;
    if (n?.type === 'TemplateLiteral' && n.expressions?.length === 0) return n.quasis?.[0]?.cooked;
    return undefined;
  };

  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, any>;
    switch (n.type) {
      case 'ImportDeclaration':
        add(n.source, n.source.value, n.typeOnly || allTypes(n.specifiers));
        break;
      case 'ExportAllDeclaration':
        add(n.source, n.source.value, n.typeOnly === true);
        break;
      case 'ExportNamedDeclaration':
        if (n.source) add(n.source, n.source.value, n.typeOnly === true);
        break;
      case 'TsImportEqualsDeclaration':
        if (n.moduleRef?.type === 'TsExternalModuleReference')
          add(n.moduleRef.expression, n.moduleRef.expression.value, n.isTypeOnly === true);
        break;
      case 'TsImportType':
        add(n.argument, n.argument.value, true);
        break;
      case 'CallExpression': {
        const isImport = n.callee?.type === 'Import';
        const isRequire = n.callee?.type === 'Identifier' && n.callee.value === 'require';
        if (isImport || isRequire) add(n, literal(n.arguments?.[0]?.expression));
        break;
      }
    }
    for (const value of Object.values(n)) if (value !== null && typeof value === 'object') visit(value);
  };
  visit(module.body);
  return found;
}

function resolve(file: string, specifier: string | undefined): Target {
  if (specifier === undefined)
    return { kind: 'unchecked', why: 'a computed import cannot be checked; import a literal path' };
  if (specifier.startsWith('.')) {
    const resolved = path.posix
      .normalize(path.posix.join(path.posix.dirname(file), specifier))
      .replace(/\.(c|m)?(t|j)s$/, '');
    if (resolved.startsWith('../')) return { kind: 'unchecked', why: 'it leaves the repository' };
    return { kind: 'local', path: resolved.replace(/\/(index)?$/, '') };
  }
  if (specifier.startsWith('/')) return { kind: 'unchecked', why: 'an absolute path; import relative to the file' };
  if (isBuiltin(specifier))
    return { kind: 'builtin', name: specifier.startsWith('node:') ? specifier : `node:${specifier}` };
  return { kind: 'package', name: specifier };
}

/** The code that builds adapters from the list: start-up and the CLI (which hands the list to the config loader). */
function isAdapterListUser(file: string): boolean {
  return file === 'src/app.ts' || file.startsWith('src/cli/');
}

/** Imports that run the wrong way. */
export function checkImports(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  for (const { path: file, text } of files) {
    const layer = layerOf(file);
    for (const ref of importsOf(file, text)) {
      const target = { ...resolve(file, ref.specifier), typeOnly: ref.typeOnly };
      if (target.kind === 'unchecked') violations.push({ ...ref, rule: target.why });
      else if (under(target, 'test', 'bench'))
        violations.push({ ...ref, rule: 'production code does not import test/ or bench/' });
      else if (layer && !layer.allows(target)) violations.push({ ...ref, rule: layer.rule });
      else if (
        file.startsWith('src/') &&
        under(target, 'adapters') &&
        !(isAdapterListUser(file) && target.kind === 'local' && target.path === 'adapters')
      ) {
        violations.push({
          ...ref,
          rule: 'only src/app.ts and src/cli import from adapters/, and only the list (adapters/index.ts)',
        });
      }
    }
  }
  return violations;
}

export function describeViolation(v: Violation): string {
  return `${v.file}:${v.line} imports ${v.specifier === undefined ? 'a computed path' : `'${v.specifier}'`}: ${v.rule}`;
}

/** Every .ts file under the given repository folders. */
export function readSources(root: string, dirs: readonly string[]): SourceFile[] {
  return dirs.flatMap((dir) =>
    (readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }) as string[])
      .filter((name) => name.endsWith('.ts'))
      .sort()
      .map((name) => {
        const rel = path.posix.join(dir, name.split(path.sep).join('/'));
        return { path: rel, text: readFileSync(path.join(root, rel), 'utf8') };
      }),
  );
}
