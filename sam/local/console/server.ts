/**
 * The demo console's server (`npm start` prints its URL): one page, its stylesheet, the app bundled
 * by esbuild from npm packages on the first request (then kept in memory), and `/config.json` with the
 * stack's endpoints. Its Content-Security-Policy lets the page load nothing but these and talk only
 * to the user pool and the two APIs: nothing comes from the internet.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Logger } from '../../../authorizer/index.js';
import { LocalStackError } from '../errors.js';
import type { ConsoleConfig } from './api.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface ConsoleOptions {
  readonly config: ConsoleConfig;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  readonly logger?: Logger;
}

export interface ConsoleServer {
  /** `http://127.0.0.1:<port>`: the console's origin, no trailing slash. */
  readonly url: string;
  stop(): Promise<void>;
}

/** The console's app bundle could not be built. */
export class ConsoleBuildError extends LocalStackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsoleBuildError';
  }
}

/** Bundle the console app (Amplify included) for the browser: one minified ES module. */
export async function buildConsoleBundle(): Promise<string> {
  try {
    const result = await build({
      entryPoints: [join(HERE, 'app.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    const file = result.outputFiles[0];
    if (!file) throw new Error('esbuild wrote nothing');
    return file.text;
  } catch (cause) {
    throw new ConsoleBuildError('the console app could not be bundled', { cause });
  }
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Start the console. The config is fixed for its lifetime.
 * @throws LocalStackError when the port cannot be bound.
 */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const logger = options.logger ?? silent;
  const host = options.host ?? '127.0.0.1';
  const { config } = options;
  const page = readFileSync(join(HERE, 'index.html'));
  const style = readFileSync(join(HERE, 'style.css'));
  let bundle: Promise<string> | undefined;
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${config.userPoolEndpoint} ${config.apis.rest} ${config.apis.http}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  const files: Record<string, { type: string; body: () => Promise<Buffer | string> }> = {
    '/': { type: 'text/html; charset=utf-8', body: async () => page },
    '/style.css': { type: 'text/css; charset=utf-8', body: async () => style },
    '/app.js': {
      type: 'text/javascript; charset=utf-8',
      body: () => {
        bundle ??= buildConsoleBundle();
        // A failed build is retried on the next request rather than cached.
        bundle.catch(() => {
          bundle = undefined;
        });
        return bundle;
      },
    },
    '/config.json': {
      type: 'application/json',
      body: async () => JSON.stringify(config),
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const file = files[path];
    const headers = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': csp,
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
      return;
    }
    if (!file) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
      return;
    }
    try {
      const body = await file.body();
      res.writeHead(200, { ...headers, 'content-type': file.type });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      logger.error('console: could not serve', {
        path,
        error: error instanceof Error ? error.message : String(error),
      });
      res.writeHead(500, { ...headers, 'content-type': 'text/plain' }).end('console build failed');
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(
        new LocalStackError(`console: cannot listen on ${host}:${options.port ?? 0}`, { cause }),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
