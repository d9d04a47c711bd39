/**
 * The authorizer's structured logs and CloudWatch metrics, without Powertools. The authorizer's init is
 * measured against a floor bundle (aws-jwt-verify + the Cognito Identity client, nothing else);
 * Powertools' Logger and Metrics added 31 KiB (10% of that floor) and about a tenth of its init, for
 * the part we use: JSON log lines with a level, and Embedded Metric Format blobs. Both are written
 * here, in the shapes Powertools writes, so log queries and dashboards read the same fields. The
 * control-plane functions keep Powertools' Logger (no init target there).
 *
 * EMF: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import type { Logger, MetricsSink, MetricUnitName } from '../authorizer/index.js';

/** Where a line goes; default stdout (CloudWatch Logs, one JSON document per line). */
export type LineWriter = (line: string) => void;

const stdout: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON of a log entry; never throws (a BigInt or a cycle in a field becomes a note instead). */
function serialise(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry);
  } catch {
    const { level, message, timestamp, service } = entry;
    return JSON.stringify({ level, message, timestamp, service, note: 'fields not serialisable' });
  }
}

/**
 * A JSON line logger: `{ level, message, timestamp, service, …fields }`, Powertools' key names. Lines
 * below `level` are dropped before anything is built.
 */
export function jsonLogger(options: {
  readonly serviceName: string;
  readonly level: LogLevel;
  readonly write?: LineWriter;
  readonly now?: () => number;
}): Logger {
  const write = options.write ?? stdout;
  const now = options.now ?? Date.now;
  const threshold = LOG_LEVELS.indexOf(options.level);
  const at =
    (level: LogLevel) =>
    (message: string, ...extra: Record<string, unknown>[]) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const entry: Record<string, unknown> = Object.assign({}, ...extra);
      entry.level = level;
      entry.message = message;
      entry.timestamp = new Date(now()).toISOString();
      entry.service = options.serviceName;
      write(serialise(entry));
    };
  return { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

/** EMF caps: 100 metrics per directive, 100 values per metric. */
const MAX_METRICS = 100;
const MAX_VALUES = 100;

interface Stored {
  readonly unit: MetricUnitName;
  readonly values: number[];
}

/**
 * An Embedded Metric Format sink for the authorizer's {@link MetricsSink}: stored values go out as one
 * blob per `publishStoredMetrics` with the `service` dimension; a `singleMetric()` blob carries its own
 * dimensions and is written as soon as its metric is added; the cold start is `ColdStart` = 1 with
 * `service` and `function_name`, as Powertools writes it. `disabled` writes nothing (local runs).
 */
export function emfMetrics(options: {
  readonly namespace: string;
  readonly serviceName: string;
  readonly functionName?: string;
  readonly disabled?: boolean;
  readonly write?: LineWriter;
  readonly now?: () => number;
}): MetricsSink {
  const write = options.write ?? stdout;
  const now = options.now ?? Date.now;
  const stored = new Map<string, Stored>();

  const blob = (metrics: Map<string, Stored>, dimensions: Record<string, string>) => {
    if (options.disabled || metrics.size === 0) return;
    const all = [...metrics];
    for (let i = 0; i < all.length; i += MAX_METRICS) {
      const chunk = all.slice(i, i + MAX_METRICS);
      const document: Record<string, unknown> = {
        _aws: {
          Timestamp: now(),
          CloudWatchMetrics: [
            {
              Namespace: options.namespace,
              Dimensions: [Object.keys(dimensions)],
              Metrics: chunk.map(([name, { unit }]) => ({ Name: name, Unit: unit })),
            },
          ],
        },
        ...dimensions,
      };
      for (const [name, { values }] of chunk) {
        document[name] = values.length === 1 ? values[0] : values.slice(0, MAX_VALUES);
      }
      write(JSON.stringify(document));
    }
  };
  const add = (into: Map<string, Stored>, name: string, unit: MetricUnitName, value: number) => {
    const entry = into.get(name);
    if (entry === undefined) into.set(name, { unit, values: [value] });
    else entry.values.push(value);
  };
  const service = { service: options.serviceName };

  return {
    addMetric(name, unit, value) {
      add(stored, name, unit, value);
    },
    addDimensions() {
      // Only single-metric blobs carry dimensions of their own (observability.ts uses no others).
    },
    hasStoredMetrics: () => stored.size > 0,
    publishStoredMetrics() {
      blob(stored, service);
      stored.clear();
    },
    singleMetric() {
      let dimensions: Record<string, string> = { ...service };
      return {
        addDimensions(extra: Record<string, string>) {
          dimensions = { ...dimensions, ...extra };
        },
        addMetric(name: string, unit: MetricUnitName, value: number) {
          blob(new Map([[name, { unit, values: [value] }]]), dimensions);
        },
      };
    },
    captureColdStartMetric() {
      blob(new Map([['ColdStart', { unit: 'Count', values: [1] }]]), {
        ...service,
        ...(options.functionName ? { function_name: options.functionName } : {}),
      });
    },
  };
}
