/**
 * The local stack's janitor: a tiny Node process that removes the stack's temporary folders and
 * files when the stack's process is gone — even after `kill -9`, when no exit handler of ours runs
 * (before it, a killed stack left a 16 MB folder of function bundles in /tmp each time).
 *
 * It learns the stack is gone from its IPC channel closing, which the kernel does for any death
 * of the parent. It runs in a process group of its own and ignores SIGINT/SIGTERM/SIGHUP, so a
 * Ctrl-C to the terminal's group does not take it down before the stack has stopped; on a normal
 * stop the stack removes everything itself and then lets the janitor go.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

const SCRIPT = [
  "const { rmSync } = require('node:fs');",
  'const paths = new Set(JSON.parse(process.argv[1]));',
  "process.on('message', (m) => { if (m && typeof m.add === 'string') paths.add(m.add); });",
  "for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});",
  "process.on('disconnect', () => {",
  '  for (const p of paths) { try { rmSync(p, { recursive: true, force: true }); } catch {} }',
  '  process.exit(0);',
  '});',
].join('\n');

export interface Janitor {
  readonly pid: number | undefined;
  /** Also remove `path` (a file or folder) when the stack is gone. */
  add(path: string): void;
  /** Let the janitor go (removing what it still knows of) and wait for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a janitor for `paths`. */
export function startJanitor(paths: readonly string[] = []): Janitor {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, JSON.stringify(paths)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  // Neither the process nor its channel keeps this event loop alive.
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
  child.on('error', () => {}); // a janitor that cannot start must not crash the stack
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid,
    add(path) {
      if (child.connected) child.send({ add: path });
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // Referenced again while we wait, or the event loop could end before its exit arrives.
        child.ref();
        const exited = once(child, 'exit');
        if (child.connected) child.disconnect();
        else child.kill('SIGKILL');
        await exited;
      })();
      return stopped;
    },
  };
}
