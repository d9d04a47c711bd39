/**
 * `npm start` as a terminal runs it: `npm start` in a process group of its own, then
 * - Ctrl-C (SIGINT to the whole group) and SIGTERM to the group: exit 0, and nothing left behind —
 *   no process, no listening port, no `.local/stack.json` or `codes.json`, no temporary folder;
 * - `kill -9` of the stack's own process: its janitor removes the files and folders, its children
 *   notice and exit;
 * - a child that dies (cognito-local here): reported in one line, the stack stops, exit 1.
 * Each run gets its own TMPDIR, so "no temporary folder" is exact even beside parallel suites.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PORT_FLAGS } from '../../../sam/local/stack.js';
import type { RunningStackFile } from '../../../sam/local/stack-file.js';
import { ROOT } from '../../../sam/template.js';

const roots: string[] = [];
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Every descendant of `pid` (detached ones too: they keep their parent until it dies). */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((r): r is [number, number] => r.length === 2 && !Number.isNaN(r[0]));
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of table)
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
  };
  visit(pid);
  return found;
}

interface Running {
  readonly npm: ChildProcess;
  readonly stack: RunningStackFile;
  readonly stackFile: string;
  readonly tmp: string;
  readonly pids: number[];
  readonly ports: number[];
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` with free ports, no demo, its own TMPDIR and stack file, in its own group. */
async function npmStart(): Promise<Running> {
  const root = mkdtempSync(join(tmpdir(), 'tenantgate-signals-'));
  roots.push(root);
  const tmp = join(root, 'tmp');
  execFileSync('mkdir', ['-p', tmp]);
  const stackFile = join(root, '.local', 'stack.json');
  const ports = Object.values(PORT_FLAGS).flatMap((flag) => [flag, '0']);
  const npm = spawn(
    'npm',
    ['start', '--', ...ports, '--quiet', '--no-demo', '--stack-file', stackFile],
    {
      cwd: ROOT,
      detached: true, // a process group of its own, as a terminal's foreground job
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.push(npm);
  let output = '';
  npm.stdout?.on('data', (d) => {
    output += d;
  });
  npm.stderr?.on('data', (d) => {
    output += d;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 150_000;
  while (!output.includes('Running. Ctrl-C stops everything.')) {
    if (Date.now() > deadline || npm.exitCode !== null)
      throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as RunningStackFile;
  return {
    npm,
    stack,
    stackFile,
    tmp,
    pids: [npm.pid as number, ...descendants(npm.pid as number)],
    ports: Object.values(stack.endpoints).map((url) => Number(new URL(url).port)),
    output: () => output,
    exit,
  };
}

/** After the run: no process, no port, no file, no folder. */
async function expectNothingLeft(run: Running) {
  // Children notice a dead parent within their 0.5 s watchdog period, then end (a JVM takes a
  // moment on a busy machine): waited for, up to 15 s, before the verdict.
  for (let waited = 0; waited < 15_000 && run.pids.some(alive); waited += 250)
    await new Promise((r) => setTimeout(r, 250));
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 160);
    } catch {
      return '';
    }
  };
  expect(run.pids.filter(alive).map((pid) => `${pid} ${cmdline(pid)}`)).toEqual([]);
  const open: number[] = [];
  for (const port of run.ports) if (await listening(port)) open.push(port);
  expect(open).toEqual([]);
  expect(existsSync(run.stackFile)).toBe(false);
  expect(existsSync(join(run.stackFile, '..', 'codes.json'))).toBe(false);
  // tsx keeps its compile cache in TMPDIR (tsx-<uid>) for every run, and on Node 22 it also turns on
  // Node's module compile cache (TMPDIR/node-compile-cache, module.enableCompileCache): both are the
  // tools' shared caches, reused by the next run. Everything else is the stack's.
  const caches = /^(tsx-\d+|node-compile-cache)$/;
  expect(readdirSync(run.tmp).filter((name) => !caches.test(name))).toEqual([]);
}

describe('npm start in a terminal', () => {
  it('Ctrl-C (SIGINT to the process group) exits 0 and leaves nothing behind', async () => {
    const run = await npmStart();
    // cognito-local, DynamoDB Local's watchdog and JVM, the janitor, esbuild: all running.
    expect(run.pids.length).toBeGreaterThanOrEqual(5);
    // The console, once opened, has bundled its app with esbuild: whatever that started goes too.
    const app = await fetch(`${run.stack.endpoints.console}/app.js`);
    expect(app.status).toBe(200);
    await app.arrayBuffer();
    run.pids.push(...descendants(run.npm.pid as number).filter((pid) => !run.pids.includes(pid)));
    process.kill(-(run.npm.pid as number), 'SIGINT');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.output()).toMatch(/Stopping…\n$/);
    await expectNothingLeft(run);
  }, 200_000);

  it('SIGTERM to the process group exits 0 and leaves nothing behind', async () => {
    const run = await npmStart();
    process.kill(-(run.npm.pid as number), 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    await expectNothingLeft(run);
  }, 200_000);

  it('kill -9 of the stack: its janitor and its children clean up after it', async () => {
    const run = await npmStart();
    process.kill(run.stack.pid, 'SIGKILL');
    await run.exit;
    await expectNothingLeft(run);
  }, 200_000);

  it('a child that dies is reported at once; the stack stops with exit 1 and leaves nothing behind', async () => {
    const run = await npmStart();
    const cognito = run.pids.find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cognito-local'),
    );
    expect(cognito).toBeDefined();
    process.kill(cognito as number, 'SIGKILL');
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.output()).toContain(
      'error: cognito-local exited unexpectedly (killed by SIGKILL); stopping the local stack',
    );
    await expectNothingLeft(run);
  }, 200_000);
});
