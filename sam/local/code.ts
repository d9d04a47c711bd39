/**
 * `npm run -s code -- <email> [--stack-file PATH]`: the latest code the running local stack's user pool "sent" to
 * `<email>` — a sign-up confirmation code, a password reset code, an attribute verification code or
 * a temporary password — so self-service sign-up can be tried end to end without a mailbox.
 * (`npm start` prints each one too.)
 */
import {
  LocalStackNotRunningError,
  readCodes,
  runningStack,
  stackFileArgument,
} from './stack-file.js';

function main(args: readonly string[]): number {
  const { stackFile, rest: argv } = stackFileArgument(args);
  const [email, ...rest] = argv;
  if (!email || rest.length > 0) {
    process.stderr.write('usage: npm run -s code -- <email>\n');
    return 2;
  }
  runningStack(stackFile);
  const sent = readCodes(stackFile)[email];
  if (!sent) {
    process.stderr.write(`no code was sent to ${email} since the local stack started\n`);
    return 1;
  }
  process.stdout.write(`${sent.code}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof LocalStackNotRunningError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
