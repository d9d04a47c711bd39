/** Starting a local server on a loopback port, shared by the stack's HTTP fronts. */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on `host:port` (port 0: a free one) and resolves the endpoint URL (an IPv6 host in
 * brackets). Rejects with the listen error itself (EADDRINUSE…), which each front wraps in its own
 * error type; the one-shot error handler is removed once listening, so later errors are not
 * mistaken for a failed start.
 */
export async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
