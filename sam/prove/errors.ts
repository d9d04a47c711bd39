/** Errors of the policy prover (`sam/prove/`). A property that does not hold is a result, not an error. */
import { SamError } from '../errors.js';

/** The prover could not reach a verdict: Z3 failed, answered unexpectedly, or gave up (`unknown`). */
export class ProofError extends SamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProofError';
  }
}
