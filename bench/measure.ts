// Timing and reporting for the benchmark script: each operation is timed on its own with
// process.hrtime.bigint(), so the table can show latency percentiles next to throughput.

export interface Measurement {
  name: string;
  iterations: number;
  /** Wall time of the measured loop, in nanoseconds. */
  totalNs: number;
  /** Every single operation's duration, ascending, in nanoseconds. */
  sortedNs: Float64Array;
  note?: string;
  /** Figures computed elsewhere (e.g. medians over paired rounds); shown instead of those from `sortedNs`. */
  summary?: { opsPerSecond: number; p50Ns: number; p99Ns: number };
}

export interface MeasureOptions {
  iterations: number;
  /** Untimed runs first, so the JIT has compiled the hot path (default: a tenth of `iterations`, at most 1,000). */
  warmup?: number;
  note?: string;
}

/** Times `operation(i)` for i = 0 … iterations-1 (after untimed warm-up runs with the same indexes). */
export function measureSync(name: string, options: MeasureOptions, operation: (i: number) => unknown): Measurement {
  const { iterations } = options;
  for (let i = 0, n = warmupCount(options); i < n; i++) operation(i % iterations);
  const durations = new Float64Array(iterations);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const before = process.hrtime.bigint();
    operation(i);
    durations[i] = Number(process.hrtime.bigint() - before);
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  return finish(name, options, totalNs, durations);
}

/** Like measureSync for promises, one at a time (no overlap), so each duration is one operation's latency. */
export async function measureAsync(
  name: string,
  options: MeasureOptions,
  operation: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  const { iterations } = options;
  for (let i = 0, n = warmupCount(options); i < n; i++) await operation(i % iterations);
  const durations = new Float64Array(iterations);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const before = process.hrtime.bigint();
    await operation(i);
    durations[i] = Number(process.hrtime.bigint() - before);
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  return finish(name, options, totalNs, durations);
}

function warmupCount(options: MeasureOptions): number {
  return options.warmup ?? Math.min(1_000, Math.ceil(options.iterations / 10));
}

function finish(name: string, options: MeasureOptions, totalNs: number, durations: Float64Array): Measurement {
  return { name, iterations: options.iterations, totalNs, sortedNs: durations.sort(), note: options.note };
}

/** Nearest-rank percentile (p in 0–100) of ascending values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function opsPerSecond(measurement: Measurement): number {
  return measurement.summary?.opsPerSecond ?? measurement.iterations / (measurement.totalNs / 1e9);
}

/** A plain-text table: one row per measurement, numbers right-aligned. */
export function formatTable(measurements: readonly Measurement[]): string {
  const header = ['benchmark', 'iterations', 'ops/s', 'p50 µs', 'p99 µs', 'notes'];
  const rows = measurements.map((m) => [
    m.name,
    m.iterations.toLocaleString('en-US'),
    formatNumber(opsPerSecond(m)),
    formatNumber((m.summary?.p50Ns ?? percentile(m.sortedNs, 50)) / 1e3),
    formatNumber((m.summary?.p99Ns ?? percentile(m.sortedNs, 99)) / 1e3),
    m.note ?? '',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const leftAligned = new Set([0, header.length - 1]);
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (leftAligned.has(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Three significant figures for small numbers, thousands separators for large ones. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value >= 1_000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}
