/**
 * `npm run -s token -- <email> [--switch <tenantId>] [--stack-file PATH]`: a fresh ID token of a demo user of the running
 * local stack (`.local/stack.json`), for copy-paste `curl` calls. With `--switch`, first makes
 * `<tenantId>` the user's active tenant through `POST /me/tenant`, as a client app would.
 */
import { demoClient } from './demo.js';
import {
  isConnectionFailure,
  LocalStackNotRunningError,
  NOT_RUNNING,
  runningStack,
  stackFileArgument,
} from './stack-file.js';

async function main(args: readonly string[]): Promise<number> {
  const { stackFile, rest: argv } = stackFileArgument(args);
  const [email, flag, tenantId] = argv;
  if (!email || (flag !== undefined && (flag !== '--switch' || !tenantId))) {
    process.stderr.write('usage: npm run -s token -- <email> [--switch <tenantId>]\n');
    return 2;
  }
  const stack = runningStack(stackFile);
  const user = stack.users.find((u) => u.email === email);
  if (!user) {
    process.stderr.write(
      `${email} is not a demo user: ${stack.users.map((u) => u.email).join(', ')}\n`,
    );
    return 1;
  }
  const client = demoClient(stack);
  try {
    const signedIn = await client.signIn(email, user.password);
    let { idToken } = signedIn;
    if (tenantId) {
      const r = await client.call(idToken, 'POST', '/me/tenant', {
        tenantId,
        refreshToken: signedIn.refreshToken,
      });
      if (r.status !== 200) {
        process.stderr.write(`switch refused (${r.status}): ${JSON.stringify(r.body)}\n`);
        return 1;
      }
      ({ idToken } = (r.body.tokens as { idToken: string }) ?? { idToken });
    }
    process.stdout.write(`${idToken}\n`);
    return 0;
  } finally {
    client.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A missing or stale stack file, or a stack that stopped meanwhile: one line, no stack trace.
  if (!(error instanceof LocalStackNotRunningError) && !isConnectionFailure(error)) throw error;
  process.stderr.write(
    `${error instanceof LocalStackNotRunningError ? error.message : NOT_RUNNING}\n`,
  );
  process.exitCode = 1;
}
