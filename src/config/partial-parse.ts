import type { z } from 'zod';
import type { ConfigPath } from './issues';

// Parses as much of a file as the schema accepts, so that checks across fields can run on the parts that are
// right while the parts that are wrong are reported: every problem in one run.
//
// The first parse reports the schema's problems. Then each part with a problem is left out (a key is removed so
// that its default applies; a list element is removed) and the rest is parsed again, until it parses. Removing
// list elements shifts indices, so paths in the result are translated back to paths in the file as written.
// The later parses may use a more lenient schema of the same shape (one that lets a list lose all its elements
// without taking its owner with it).

type Path = (string | number)[];

export interface PartialParse<T> {
  /** The parts that parsed, once every part with a problem was left out; undefined when nothing usable remained. */
  data: T | undefined;
  /** The schema's problems in the file as written. */
  issues: z.core.$ZodIssue[];
  /** Paths, as written, of the parts that were left out. */
  dropped: Path[];
  /** Translates a path in `data` into the path in the file as written. */
  writtenPath(path: ConfigPath): Path;
}

/** Enough to leave every part of any file out, one key or element at a time. */
const MAX_ROUNDS = 1_000;

export function parsePartially<S extends z.ZodType>(
  schema: S,
  input: unknown,
  lenient: S = schema,
): PartialParse<z.output<S>> {
  const first = schema.safeParse(input);
  if (first.success) return { data: first.data, issues: [], dropped: [], writtenPath: (path) => [...path] };

  const working: unknown = structuredClone(input);
  /** For each list that lost elements: the index as written of each remaining element. */
  const writtenIndices = new WeakMap<unknown[], number[]>();
  const dropped: Path[] = [];

  const writtenPath = (path: ConfigPath): Path => {
    let node = working;
    return path.map((key) => {
      const written = Array.isArray(node) && typeof key === 'number' ? (writtenIndices.get(node)?.[key] ?? key) : key;
      node = childOf(node, key);
      return written;
    });
  };

  const leaveOut = (path: Path): boolean => {
    if (path.length === 0) return false;
    const parent = valueAt(working, path.slice(0, -1));
    const key = path[path.length - 1]!;
    const written = writtenPath(path);
    if (Array.isArray(parent) && typeof key === 'number' && key < parent.length) {
      const indices = writtenIndices.get(parent) ?? parent.map((_, index) => index);
      indices.splice(key, 1);
      parent.splice(key, 1);
      writtenIndices.set(parent, indices);
    } else if (isRecord(parent) && Object.hasOwn(parent, key)) {
      delete parent[key];
    } else {
      return false;
    }
    dropped.push(written);
    return true;
  };

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = lenient.safeParse(working);
    if (next.success) return { data: next.data, issues: first.error.issues, dropped, writtenPath };
    const targets = uniquePaths(next.error.issues.flatMap((issue) => partsToLeaveOut(issue, working)));
    // Later elements first, so that removing one does not shift the index of another.
    targets.sort(comparePathsDescending);
    if (targets.map(leaveOut).every((removed) => !removed)) break;
  }
  return { data: undefined, issues: first.error.issues, dropped, writtenPath };
}

/** The value with the problem; when it is missing (a required key), the mapping or element that lacks it. */
function partsToLeaveOut(issue: z.core.$ZodIssue, root: unknown): Path[] {
  const path = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => [...path, key]);
  return [valueAt(root, path) === undefined ? path.slice(0, -1) : path];
}

function uniquePaths(paths: Path[]): Path[] {
  const seen = new Set<string>();
  return paths.filter((path) => {
    const key = JSON.stringify(path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function comparePathsDescending(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return y - x;
    return String(y).localeCompare(String(x));
  }
  return b.length - a.length;
}

function isRecord(value: unknown): value is Record<string | number, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function childOf(node: unknown, key: string | number): unknown {
  if (Array.isArray(node)) return typeof key === 'number' ? node[key] : undefined;
  return isRecord(node) && Object.hasOwn(node, key) ? node[key] : undefined;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => childOf(node, key), root);
}
