/**
 * Time limits on dependency calls. Without them a stalled JWKS endpoint, Cognito Identity or DynamoDB
 * held every request for the whole function timeout (10 s) before its 500, and requests piled up
 * behind it. The limit holds whatever the work does: the work is raced against a timer, and its
 * abort signal fires at the same moment so an AWS SDK call (or a fetch) also drops its socket.
 */
import { DependencyTimeoutError } from './errors.js';

/**
 * Runs `work` with an abort signal; rejects with `DependencyTimeoutError(dependency, ms)` once `ms`
 * have passed without it settling. The timer is cleared as soon as the work settles, so a Lambda
 * environment is never frozen with one pending.
 */
export function withTimeout<T>(
  dependency: string,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DependencyTimeoutError(dependency, ms);
      reject(error);
      controller.abort(error);
    }, ms);
  });
  let running: Promise<T>;
  try {
    running = work(controller.signal);
  } catch (error) {
    running = Promise.reject(error);
  }
  // race subscribes to both: the work's late rejection (its AbortError) is handled, never unhandled.
  return Promise.race([running, expired]).finally(() => clearTimeout(timer));
}

/** Whether `ms` is a usable time limit: an integer from 1 ms to 60 s. */
export const isTimeoutMs = (ms: unknown): ms is number =>
  typeof ms === 'number' && Number.isInteger(ms) && ms >= 1 && ms <= 60_000;
