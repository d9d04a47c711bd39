/**
 * `npm run -s token -- <email> [--switch <tenantId>]`: a fresh ID token of a demo user of the running
 * local stack (`.local/stack.json`), for copy-paste `curl` calls. With `--switch`, first makes
 * `<tenantId>` the user's active tenant through `POST /me/tenant`, as a client app would.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LOCAL_STACK_FILE, type LocalStackFile } from '../template.js';
import { demoClient } from './demo.js';

async function main(argv: readonly string[]): Promise<number> {
  const [email, flag, tenantId] = argv;
  if (!email || (flag !== undefined && (flag !== '--switch' || !tenantId))) {
    process.stderr.write('usage: npm run -s token -- <email> [--switch <tenantId>]\n');
    return 2;
  }
  if (!existsSync(LOCAL_STACK_FILE)) {
    process.stderr.write('the local stack is not running: start it with `npm start`\n');
    return 1;
  }
  const stack = JSON.parse(readFileSync(LOCAL_STACK_FILE, 'utf8')) as LocalStackFile;
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

process.exitCode = await main(process.argv.slice(2));
