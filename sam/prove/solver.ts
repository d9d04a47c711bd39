/**
 * Z3 (the official WASM build, npm `z3-solver`) driven with SMT-LIB 2 text. Each check gets a fresh
 * context, so no query sees another's declarations. z3-solver runs long calls on worker threads
 * (SharedArrayBuffer): `close()` terminates them, or the Node process would not exit.
 */
import { init, killThreads } from 'z3-solver';
import { ProofError } from './errors.js';
import { type ModelValue, parseValues } from './smt.js';

export type SmtStatus = 'sat' | 'unsat' | 'unknown';

export interface SmtAnswer {
  readonly status: SmtStatus;
  /** For `sat`: the values of the asked names. */
  readonly values?: ReadonlyMap<string, ModelValue>;
  /** For `unknown`: the solver's reason (e.g. `timeout`). */
  readonly reason?: string;
}

export interface SmtSolver {
  /**
   * Run `script` (declarations and assertions, without `check-sat`), then `(check-sat)`, and for
   * `sat` read `names` from the model. Checks run one at a time (Z3's WASM build is not reentrant).
   */
  check(script: string, names: readonly string[], timeoutMs?: number): Promise<SmtAnswer>;
  /** Terminate Z3's worker threads. The solver cannot be used afterwards. */
  close(): Promise<void>;
}

/** Start Z3 (~0.3–1 s: the WASM module is compiled once per process). */
export async function openSolver(): Promise<SmtSolver> {
  const { Z3, em } = await init();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const run = async (script: string, names: readonly string[], timeoutMs: number) => {
    const config = Z3.mk_config();
    const ctx = Z3.mk_context_rc(config);
    Z3.del_config(config);
    try {
      const header = `(set-option :produce-models true)(set-option :timeout ${timeoutMs})`;
      const status = (
        await Z3.eval_smtlib2_string(ctx, `${header}\n${script}\n(check-sat)`)
      ).trim();
      if (status === 'unsat') return { status } as const;
      if (status === 'unknown') {
        const reason = await Z3.eval_smtlib2_string(ctx, '(get-info :reason-unknown)');
        return { status, reason: reason.trim() } as const;
      }
      if (status !== 'sat') throw new ProofError(`Z3 did not answer sat/unsat: ${status}`);
      const values = names.length
        ? parseValues(await Z3.eval_smtlib2_string(ctx, `(get-value (${names.join(' ')}))`))
        : new Map<string, ModelValue>();
      return { status, values } as const;
    } finally {
      Z3.del_context(ctx);
    }
  };

  return {
    check(script, names, timeoutMs = 60_000) {
      if (closed) return Promise.reject(new ProofError('the solver is closed'));
      const answer = queue.then(() => run(script, names, timeoutMs));
      queue = answer.catch(() => undefined);
      return answer;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await killThreads(em);
    },
  };
}
