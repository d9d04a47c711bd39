/** Shared value types of the authorizer's modules. No logic lives here. */

/** Milliseconds since the epoch. Injected everywhere so tests need neither sleeps nor fake timers. */
export type Clock = () => number;

/** The subset of Powertools Logger the authorizer uses; any console-like logger fits. */
export interface Logger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** The unit of a metric the authorizer writes; both are CloudWatch (and Powertools) unit names. */
export type MetricUnitName = 'Count' | 'Milliseconds';

/**
 * Where the authorizer writes its metrics: the subset of Powertools `Metrics` (v2) it calls, so an
 * instance of `new Metrics({ namespace, serviceName })` fits as it is, from whichever Powertools
 * version the application pins. Declared here rather than imported, because Powertools' class has
 * private members: typed as the class, a second copy of the package in the application would not
 * type-check, and the package would have to be installed by everyone, metrics or not.
 */
export interface MetricsSink {
  /** Adds one value to the blob being built. */
  addMetric(name: string, unit: MetricUnitName, value: number): unknown;
  /** Dimensions for the blob being built (used on `singleMetric()` blobs only). */
  addDimensions(dimensions: Record<string, string>): unknown;
  /** Whether `addMetric` was called since the last publish. */
  hasStoredMetrics(): boolean;
  /** Writes the stored values as one EMF blob. */
  publishStoredMetrics(): unknown;
  /** A blob of its own, written as soon as its metric is added: one per set of dimensions. */
  singleMetric(): Pick<MetricsSink, 'addMetric' | 'addDimensions'>;
  /** Writes the `ColdStart` metric; called on the first invocation only. */
  captureColdStartMetric(): void;
}

/** Short-lived AWS credentials from Cognito Identity, scoped by principal tags to one tenant. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** An ID token that passed signature, issuer, audience, token_use and expiry checks. */
export interface VerifiedIdToken {
  /** The decoded claims, frozen. */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly userPoolId: string;
  /** `cognito-idp.<region>.amazonaws.com/<userPoolId>`: the user pool as an identity provider. */
  readonly providerName: string;
  readonly sub: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

/**
 * What the modules report; `authorize.ts` maps it to Powertools metrics. A plain callback interface
 * keeps the modules free of the metrics library and costs nothing when unset.
 */
export interface AuthorizerObserver {
  tokenCache?(hit: boolean): void;
  credentialsCache?(hit: boolean): void;
  openIdTokenCache?(hit: boolean): void;
  /** A lookup in the shared OpenID token store: found a usable token, or not. */
  sharedOpenIdToken?(hit: boolean): void;
  /** One Cognito Identity call attempt, successful or not. */
  cognitoCall?(
    operation: 'GetOpenIdTokenForDeveloperIdentity' | 'GetCredentialsForIdentity',
    millis: number,
    outcome: 'ok' | 'throttled' | 'error',
  ): void;
}

/**
 * What a protected Lambda learns from the authorizer context: the caller, their active tenant and
 * credentials scoped to it. Decoded by `readTenantContext` (context.ts).
 */
export interface TenantContext {
  readonly tenantId: string;
  readonly userId: string;
  /** The caller's role in the active tenant (`custom:role`); empty string when the token has none. */
  readonly role: string;
  /** Every tenant the caller belongs to (`cognito:groups`). */
  readonly groups: readonly string[];
  readonly identityId: string;
  readonly credentials: AwsCredentials;
}
