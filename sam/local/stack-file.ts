/**
 * `.local/stack.json` and its neighbour `.local/codes.json`: what a running `npm start` tells the
 * other tools (`npm run token`, `npm run code`, `npm run invoke`). The file carries the pid of the
 * stack that wrote it, so a file left behind by a stack that is gone (a crash, a power cut) is
 * recognised as stale — tools say "the local stack is not running" in one line instead of failing
 * on a refused connection, and the next `npm start` replaces it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOCAL_STACK_FILE, type LocalStackFile } from '../template.js';
import { LocalStackNotRunningError } from './errors.js';

export { LocalStackNotRunningError, NOT_RUNNING } from './errors.js';

/** What `.local/stack.json` holds: the stack's description and the pid of `npm start`. */
export interface RunningStackFile extends LocalStackFile {
  readonly pid: number;
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where the codes of a stack file's stack are kept. */
export const codesFileOf = (stackFile: string) => join(dirname(stackFile), 'codes.json');

/** The file's content whatever its state, or undefined when missing or not JSON. */
export function readStackFile(file = LOCAL_STACK_FILE): Partial<RunningStackFile> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<RunningStackFile>;
  } catch {
    return undefined;
  }
}

/**
 * The running stack's description.
 * @throws LocalStackNotRunningError when there is none (the message is the one line to print).
 */
export function runningStack(file = LOCAL_STACK_FILE): RunningStackFile {
  const content = readStackFile(file);
  if (!content) throw new LocalStackNotRunningError();
  if (typeof content.pid !== 'number' || !isAlive(content.pid))
    throw new LocalStackNotRunningError(`${file} is left from a stack that is gone`);
  return content as RunningStackFile;
}

/** One code or temporary password the local pool "sent", as `.local/codes.json` keeps it. */
export interface SentCode {
  readonly kind: string;
  readonly code: string;
  /** ISO time. */
  readonly at: string;
}

/** `.local/codes.json`: the latest code per email (or username) while the stack runs. */
export type CodesFile = Readonly<Record<string, SentCode>>;

/** The codes of the running stack (`{}` when none were sent). */
export function readCodes(stackFile = LOCAL_STACK_FILE): CodesFile {
  try {
    return JSON.parse(readFileSync(codesFileOf(stackFile), 'utf8')) as CodesFile;
  } catch {
    return {};
  }
}

/** `--stack-file PATH` taken out of a tool's arguments (default `.local/stack.json`). */
export function stackFileArgument(argv: readonly string[]): { stackFile: string; rest: string[] } {
  const rest = [...argv];
  const at = rest.indexOf('--stack-file');
  if (at < 0 || rest[at + 1] === undefined) return { stackFile: LOCAL_STACK_FILE, rest };
  const [, file] = rest.splice(at, 2);
  return { stackFile: file as string, rest };
}

/** A connection refused or reset by the stack's endpoints: it stopped between reads. */
export function isConnectionFailure(error: unknown): boolean {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e; ) {
    if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e.code)) return true;
    e = e.cause as typeof e;
  }
  return error instanceof TypeError && /fetch failed/.test(error.message);
}
