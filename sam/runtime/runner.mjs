// Runs one handler once, in a fresh process, like the Lambda runtime: argv = bundle, export, event
// file, function name, timeout (ms), memory (MB). The result JSON is the only thing on stdout; the
// function's own logs (Powertools writes to stdout) are moved to stderr.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, exportName, eventFile, functionName, timeout, memory, jwksRedirect] =
  process.argv.slice(2);

if (jwksRedirect) {
  // With the local stack running, tokens name the production issuer; its JWKS is served by
  // cognito-local. Send only that host's https requests there, as the local stack's workers do.
  const { host, endpoint } = JSON.parse(jwksRedirect);
  const http = await import('node:http');
  const https = await import('node:https');
  const { syncBuiltinESMExports } = await import('node:module');
  const original = https.default.request;
  https.default.request = function request(input, options, callback, ...rest) {
    const url =
      typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    if (url && url.hostname === host) {
      const opts = typeof options === 'object' && options !== null ? { ...options } : {};
      delete opts.agent;
      return http.default.request(
        new URL(url.pathname + url.search, endpoint),
        opts,
        typeof options === 'function' ? options : callback,
      );
    }
    return original.call(this, input, options, callback, ...rest);
  };
  syncBuiltinESMExports();
}
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
