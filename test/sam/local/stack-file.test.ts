/**
 * `.local/stack.json` as the tools read it: a missing file, a file left by a stack that is gone (its
 * pid dead) and a stack that stopped answering all give the same one line, never a stack trace;
 * `npm run code` prints the latest code the pool sent.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  codesFileOf,
  isAlive,
  LocalStackNotRunningError,
  NOT_RUNNING,
  runningStack,
} from '../../../sam/local/stack-file.js';
import { ROOT } from '../../../sam/template.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantgate-stack-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that is certainly not running: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid as number;

const description = (pid: number) => ({
  region: 'us-east-1',
  // Nothing listens on port 9 (discard) on loopback here: every call is refused.
  endpoints: {
    userPool: 'http://127.0.0.1:9',
    identityPool: 'http://127.0.0.1:9',
    dynamodb: 'http://127.0.0.1:9',
    restApi: 'http://127.0.0.1:9',
    httpApi: 'http://127.0.0.1:9',
  },
  userPoolId: 'us-east-1_Gone12345',
  clientId: 'client',
  identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
  tableName: 'table',
  users: [{ email: 'alice@alpha.example', password: 'x', tenants: [] }],
  pid,
});

const write = (name: string, content: unknown) => {
  const file = join(dir, name, 'stack.json');
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(file, JSON.stringify(content));
  return file;
};

const tool = (script: string, args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'sam', 'local', script), ...args],
      { cwd: ROOT },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('runningStack', () => {
  it('is the description of a stack whose process lives', () => {
    const file = write('alive', description(process.pid));
    expect(runningStack(file).pid).toBe(process.pid);
    expect(isAlive(process.pid)).toBe(true);
  });

  it('a missing, unreadable or stale file is LocalStackNotRunningError', () => {
    const dead = deadPid();
    expect(isAlive(dead)).toBe(false);
    const missing = join(dir, 'none', 'stack.json');
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{ not json');
    const stale = write('stale', description(dead));
    const noPid = write('no-pid', { ...description(0), pid: undefined });
    for (const file of [missing, garbage, stale, noPid])
      expect(() => runningStack(file)).toThrow(LocalStackNotRunningError);
    expect(() => runningStack(stale)).toThrow(
      `${NOT_RUNNING} (${stale} is left from a stack that is gone)`,
    );
  });
});

describe('the tools say "the local stack is not running" in one line', () => {
  it('npm run token: no file, a stale file, and a stack that stopped answering', async () => {
    const cases = [
      join(dir, 'nothing', 'stack.json'),
      write('token-stale', description(deadPid())),
      write('token-refusing', description(process.pid)),
    ];
    for (const file of cases) {
      const r = await tool('token.ts', ['alice@alpha.example', '--stack-file', file]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr
        .split('\n')
        .filter(
          (l) =>
            l !== '' &&
            !/NodeVersionSupportWarning|node >=|upgrade|a\.co|trace-warnings|versions published|will require|continue receiving/i.test(
              l,
            ),
        );
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^the local stack is not running: start it with `npm start`/);
    }
  }, 60_000);

  it('npm run code prints the latest code sent to an address', async () => {
    const file = write('codes', description(process.pid));
    writeFileSync(
      codesFileOf(file),
      JSON.stringify({
        'alice@alpha.example': { kind: 'sign-up confirmation code', code: '123456', at: '' },
      }),
    );
    expect(await tool('code.ts', ['alice@alpha.example', '--stack-file', file])).toMatchObject({
      code: 0,
      stdout: '123456\n',
    });
    const other = await tool('code.ts', ['bob@bravo.example', '--stack-file', file]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      'no code was sent to bob@bravo.example since the local stack started',
    );
    const stale = await tool('code.ts', [
      'alice@alpha.example',
      '--stack-file',
      write('codes-stale', description(deadPid())),
    ]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^the local stack is not running/);
  }, 60_000);
});
