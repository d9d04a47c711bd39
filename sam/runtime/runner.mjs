// Runs one handler once, in a fresh process, like the Lambda runtime: argv = bundle, export, event
// file, function name, timeout (ms), memory (MB). The result JSON is the only thing on stdout; the
// function's own logs (Powertools writes to stdout) are moved to stderr.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, exportName, eventFile, functionName, timeout, memory] = process.argv.slice(2);
const writeResult = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

const finish = (line, code) => {
  writeResult(`${line}\n`, () => process.exit(code));
};

try {
  const event = JSON.parse(readFileSync(eventFile, 'utf8'));
  const mod = await import(pathToFileURL(bundle).href);
  const fn = mod[exportName];
  if (typeof fn !== 'function')
    throw new TypeError(`${exportName} is not a function exported by ${bundle}`);
  const started = Date.now();
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const context = {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: memory,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${randomUUID()}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, Number(timeout) - (Date.now() - started)),
    done() {},
    fail() {},
    succeed() {},
  };
  const result = await fn(event, context);
  finish(JSON.stringify(result ?? null), 0);
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  finish(JSON.stringify({ errorType: e.name, errorMessage: e.message }), 1);
}
