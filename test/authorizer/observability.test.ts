import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { MetricsSink } from '../../authorizer/index.js';
import { createObservability } from '../../authorizer/observability.js';

/** Records what would be published: one entry per EMF blob. */
function fakeMetrics() {
  const blobs: { dimensions: Record<string, string>; metrics: [string, string, number][] }[] = [];
  let stored: [string, string, number][] = [];
  const make = (single: boolean, dimensions: Record<string, string> = {}): MetricsSink => ({
    addMetric(name: string, unit: string, value: number) {
      if (single) blobs.push({ dimensions, metrics: [[name, unit, value]] });
      else stored.push([name, unit, value]);
      return this;
    },
    addDimensions(d: Record<string, string>) {
      Object.assign(dimensions, d);
      return this;
    },
    hasStoredMetrics: () => stored.length > 0,
    publishStoredMetrics() {
      blobs.push({ dimensions: {}, metrics: stored });
      stored = [];
      return this;
    },
    singleMetric: () => make(true, {}),
    captureColdStartMetric() {},
  });
  return { metrics: make(false), blobs };
}

describe('observability', () => {
  it("takes Powertools' Metrics as it is (a structural sink, no Powertools import in the library)", () => {
    // Checked by `npm run typecheck`; no cast anywhere between the two.
    expectTypeOf<Metrics>().toExtend<MetricsSink>();
  });

  it('batches counts and publishes at most once per interval', () => {
    let t = 0;
    const { metrics, blobs } = fakeMetrics();
    const o = createObservability({ metrics, now: () => t, flushIntervalMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      o.observer.credentialsCache?.(true);
      o.decision('allow', 'allowed');
      o.maybeFlush();
    }
    expect(blobs).toHaveLength(0);
    o.decision('deny', 'tenant-not-in-groups');
    t = 10_000;
    o.maybeFlush();
    expect(blobs[0]?.metrics).toEqual([['CredentialsCacheHit', 'Count', 5]]);
    expect(blobs.slice(1)).toEqual([
      { dimensions: { outcome: 'allow', reason: 'allowed' }, metrics: [['Decisions', 'Count', 5]] },
      {
        dimensions: { outcome: 'deny', reason: 'tenant-not-in-groups' },
        metrics: [['Decisions', 'Count', 1]],
      },
    ]);
    t = 30_000;
    o.maybeFlush();
    expect(blobs).toHaveLength(3);
  });

  it('interval 0 publishes on every invocation', () => {
    const { metrics, blobs } = fakeMetrics();
    const o = createObservability({ metrics, now: () => 0, flushIntervalMs: 0 });
    o.decision('unauthorized', 'expired');
    o.maybeFlush();
    o.decision('unauthorized', 'expired');
    o.maybeFlush();
    expect(blobs).toHaveLength(2);
  });

  it('records Cognito latency samples, throttles, and flushes at 100 samples', () => {
    const { metrics, blobs } = fakeMetrics();
    const o = createObservability({ metrics, now: () => 0 });
    o.observer.cognitoCall?.('GetOpenIdTokenForDeveloperIdentity', 12, 'throttled');
    for (let i = 0; i < 99; i++) o.observer.cognitoCall?.('GetCredentialsForIdentity', 5, 'ok');
    const first = blobs[0]?.metrics ?? [];
    expect(first.filter(([n]) => n === 'CognitoIdentityLatency')).toHaveLength(100);
    expect(first).toContainEqual(['CognitoIdentityThrottles', 'Count', 1]);
    expect(first).toContainEqual(['GetOpenIdTokenForDeveloperIdentityCalls', 'Count', 1]);
  });

  it('without metrics, records nothing and never throws', () => {
    const o = createObservability({ now: () => 0, flushIntervalMs: 0 });
    o.decision('allow', 'allowed');
    o.maybeFlush();
    o.flush();
  });
});
