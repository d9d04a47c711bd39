/**
 * Z3 (the official WASM build, npm `z3-solver`) fed SMT-LIB 2 text. Each check gets a fresh context,
 * so no query sees another's declarations.
 *
 * The script goes in through `Z3_solver_from_string`, which runs synchronously, and only the check
 * itself runs on a worker thread. Not `Z3_eval_smtlib2_string`: its async wrapper passes the script on
 * the WASM stack, which is released when the call returns while the worker is still reading it —
 * here that gave parse errors on valid scripts ("unknown constant", "arguments missing"), and a
 * corrupted script could as well parse into a different question.
 *
 * z3-solver keeps worker threads alive (SharedArrayBuffer): `close()` terminates them, or the Node
 * process would not exit.
 */
import { init, killThreads, Z3_lbool } from 'z3-solver';
import { ProofError } from './errors.js';
import { type ModelValue, parseValues } from './smt.js';

export type SmtStatus = 'sat' | 'unsat' | 'unknown';

export interface SmtAnswer {
  readonly status: SmtStatus;
  /** For `sat`: the model's value of each declared constant (unlisted ones are unconstrained). */
  readonly values?: ReadonlyMap<string, ModelValue>;
  /** For `unknown`: the solver's reason (e.g. `timeout`). */
  readonly reason?: string;
}

export interface SmtSolver {
  /**
   * Assert `script` (declarations and assertions, no `check-sat`) and check it. Checks run one at a
   * time: Z3's WASM build is not reentrant.
   */
  check(script: string, timeoutMs?: number): Promise<SmtAnswer>;
  /** Terminate Z3's worker threads. The solver cannot be used afterwards. */
  close(): Promise<void>;
}

type Z3Api = Awaited<ReturnType<typeof init>>['Z3'];

/** Start Z3 (about 1–2 s: the WASM module compiles once per process, and a worker thread starts). */
export async function openSolver(): Promise<SmtSolver> {
  const { Z3, em } = await init();
  // The first check starts Z3's worker thread (about a second): pay it here, not in a property's time.
  await check(Z3, '(declare-const warm Bool)', 10_000);
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    check(script, timeoutMs = 60_000) {
      if (closed) return Promise.reject(new ProofError('the solver is closed'));
      const answer = queue.then(() => check(Z3, script, timeoutMs));
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

async function check(Z3: Z3Api, script: string, timeoutMs: number): Promise<SmtAnswer> {
  const config = Z3.mk_config();
  const ctx = Z3.mk_context_rc(config);
  Z3.del_config(config);
  const solver = Z3.mk_solver(ctx);
  Z3.solver_inc_ref(ctx, solver);
  try {
    const params = Z3.mk_params(ctx);
    Z3.params_inc_ref(ctx, params);
    Z3.params_set_uint(ctx, params, Z3.mk_string_symbol(ctx, 'timeout'), timeoutMs);
    Z3.solver_set_params(ctx, solver, params);
    Z3.params_dec_ref(ctx, params);
    Z3.solver_from_string(ctx, solver, script);
    if (Z3.get_error_code(ctx) !== 0)
      throw new ProofError(
        `Z3 rejected the script: ${Z3.get_error_msg(ctx, Z3.get_error_code(ctx))}`,
      );
    const result = await Z3.solver_check(ctx, solver);
    if (result === Z3_lbool.Z3_L_FALSE) return { status: 'unsat' };
    if (result === Z3_lbool.Z3_L_UNDEF)
      return { status: 'unknown', reason: Z3.solver_get_reason_unknown(ctx, solver) };
    return { status: 'sat', values: modelValues(Z3, ctx, Z3.solver_get_model(ctx, solver)) };
  } finally {
    Z3.solver_dec_ref(ctx, solver);
    Z3.del_context(ctx);
  }
}

type Ctx = Parameters<Z3Api['del_context']>[0];
type Model = ReturnType<Z3Api['solver_get_model']>;

/** Every constant the model interprets, read back from its SMT-LIB text. */
function modelValues(Z3: Z3Api, ctx: Ctx, model: Model): Map<string, ModelValue> {
  Z3.model_inc_ref(ctx, model);
  try {
    const entries: string[] = [];
    for (let i = 0; i < Z3.model_get_num_consts(ctx, model); i++) {
      const decl = Z3.model_get_const_decl(ctx, model, i);
      const name = Z3.get_symbol_string(ctx, Z3.get_decl_name(ctx, decl));
      const value = Z3.model_get_const_interp(ctx, model, decl);
      if (value !== null) entries.push(`(${name} ${Z3.ast_to_string(ctx, value)})`);
    }
    return parseValues(`(${entries.join(' ')})`);
  } finally {
    Z3.model_dec_ref(ctx, model);
  }
}
