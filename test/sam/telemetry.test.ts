/**
 * The authorizer's logs and metrics without Powertools: JSON lines with Powertools' key names, and
 * Embedded Metric Format blobs that CloudWatch accepts (every metric named in the directive has a
 * value at the top level, every dimension key too, at most 100 metrics and 100 values each).
 */
import { describe, expect, it } from 'vitest';
import { createObservability } from '../../authorizer/observability.js';
import { emfMetrics, jsonLogger } from '../../sam/telemetry.js';

const T = Date.UTC(2026, 0, 2, 3, 4, 5);

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** The EMF specification's structural rules, checked on every blob. */
function assertEmf(line: string): EmfDocument {
  const doc = JSON.parse(line) as EmfDocument;
  expect(doc._aws.Timestamp).toBe(T);
  const [directive] = doc._aws.CloudWatchMetrics;
  expect(directive?.Namespace).toBe('ns');
  for (const set of directive?.Dimensions ?? [])
    for (const d of set) expect(typeof doc[d]).toBe('string');
  expect(directive?.Metrics.length).toBeLessThanOrEqual(100);
  for (const { Name } of directive?.Metrics ?? []) {
    const value = doc[Name];
    if (Array.isArray(value)) expect(value.length).toBeLessThanOrEqual(100);
    else expect(typeof value).toBe('number');
  }
  return doc;
}

describe('jsonLogger', () => {
  it('writes one JSON line per entry with level, message, timestamp, service and the fields', () => {
    const lines: string[] = [];
    const log = jsonLogger({
      serviceName: 'svc',
      level: 'INFO',
      write: (l) => lines.push(l),
      now: () => T,
    });
    log.info('refused', { outcome: 'deny', reason: 'no-tenant' });
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      level: 'INFO',
      message: 'refused',
      timestamp: '2026-01-02T03:04:05.000Z',
      service: 'svc',
      outcome: 'deny',
      reason: 'no-tenant',
    });
  });

  it('drops entries below its level', () => {
    const lines: string[] = [];
    const log = jsonLogger({ serviceName: 's', level: 'WARN', write: (l) => lines.push(l) });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['WARN', 'ERROR']);
  });

  it('a field cannot overwrite the level or message, and an unserialisable one cannot throw', () => {
    const lines: string[] = [];
    const log = jsonLogger({ serviceName: 's', level: 'DEBUG', write: (l) => lines.push(l) });
    log.info('m', { level: 'FAKE', message: 'forged' });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 'INFO', message: 'm' });
    expect(() => log.error('big', { n: 10n })).not.toThrow();
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ level: 'ERROR', message: 'big' });
  });
});

describe('emfMetrics', () => {
  const sink = (disabled = false) => {
    const lines: string[] = [];
    const metrics = emfMetrics({
      namespace: 'ns',
      serviceName: 'svc',
      functionName: 'fn',
      disabled,
      write: (l) => lines.push(l),
      now: () => T,
    });
    return { metrics, lines };
  };

  it('publishes stored values as one blob with the service dimension', () => {
    const { metrics, lines } = sink();
    metrics.addMetric('TokenCacheHit', 'Count', 5);
    metrics.addMetric('CognitoIdentityLatency', 'Milliseconds', 12);
    metrics.addMetric('CognitoIdentityLatency', 'Milliseconds', 30);
    expect(metrics.hasStoredMetrics()).toBe(true);
    metrics.publishStoredMetrics();
    expect(metrics.hasStoredMetrics()).toBe(false);
    const doc = assertEmf(lines[0] ?? '');
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(doc).toMatchObject({
      service: 'svc',
      TokenCacheHit: 5,
      CognitoIdentityLatency: [12, 30],
    });
    metrics.publishStoredMetrics();
    expect(lines).toHaveLength(1); // nothing stored, nothing written
  });

  it('a single-metric blob carries its own dimensions', () => {
    const { metrics, lines } = sink();
    const single = metrics.singleMetric();
    single.addDimensions({ outcome: 'deny', reason: 'no-tenant' });
    single.addMetric('Decisions', 'Count', 3);
    const doc = assertEmf(lines[0] ?? '');
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'outcome', 'reason']]);
    expect(doc).toMatchObject({ outcome: 'deny', reason: 'no-tenant', Decisions: 3 });
  });

  it('the cold start is ColdStart = 1 with service and function_name, as Powertools writes it', () => {
    const { metrics, lines } = sink();
    metrics.captureColdStartMetric();
    const doc = assertEmf(lines[0] ?? '');
    expect(doc._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'function_name']]);
    expect(doc).toMatchObject({ ColdStart: 1, function_name: 'fn' });
  });

  it('splits more than 100 metrics into several blobs', () => {
    const { metrics, lines } = sink();
    for (let i = 0; i < 150; i++) metrics.addMetric(`M${i}`, 'Count', i);
    metrics.publishStoredMetrics();
    expect(lines).toHaveLength(2);
    for (const line of lines) assertEmf(line);
  });

  it('writes nothing when disabled', () => {
    const { metrics, lines } = sink(true);
    metrics.captureColdStartMetric();
    metrics.addMetric('X', 'Count', 1);
    metrics.publishStoredMetrics();
    metrics.singleMetric().addMetric('Y', 'Count', 1);
    expect(lines).toEqual([]);
  });

  it('carries the authorizer’s batched metrics end to end', () => {
    const { metrics, lines } = sink();
    let t = T;
    const observability = createObservability({ metrics, now: () => t, flushIntervalMs: 1000 });
    observability.observer.tokenCache?.(true);
    observability.decision('allow', 'allowed');
    t += 1000;
    observability.maybeFlush();
    for (const line of lines) JSON.parse(line);
    expect(lines.some((l) => JSON.parse(l).TokenCacheHit === 1)).toBe(true);
    expect(lines.some((l) => JSON.parse(l).Decisions === 1)).toBe(true);
  });
});
