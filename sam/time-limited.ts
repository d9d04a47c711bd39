/**
 * A module of its own so the authorizer's handler can use it without importing the control plane's
 * clients (and with them the DynamoDB client its bundle leaves out).
 */

/**
 * Request-handler options that put a time limit on every attempt of an AWS SDK call: connecting,
 * waiting for the response, and an idle socket. A stalled dependency then fails the call after
 * `maxAttempts` (the SDK's 3) × this, instead of holding the request to the function timeout.
 * `throwOnRequestTimeout` matters: without it @smithy/node-http-handler (4.x) only logs a warning when
 * `requestTimeout` passes, and the request waits on.
 */
export const timeLimited = (timeoutMs: number) => ({
  connectionTimeout: timeoutMs,
  requestTimeout: timeoutMs,
  socketTimeout: timeoutMs,
  throwOnRequestTimeout: true,
});
