/**
 * Ports for the local stack's children: drawn below the ephemeral range (where no outgoing
 * connection's source port can land), and drawn again when one is taken before the child listens.
 * The race is staged for real: the test takes the drawn port itself, then the real JVM and the real
 * cognito-local are launched on it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { launchCognitoLocal } from '../../../sam/local/cognito.js';
import { launchDynamoDbLocal } from '../../../sam/local/dynamodb.js';
import { PortTakenError } from '../../../sam/local/errors.js';
import { claimPort, freePort, launchOnPort } from '../../../sam/local/ports.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * Holds `port` (0: one the OS picks) on 127.0.0.1 until the test ends; resolves the port. The
 * default holder accepts connections and never answers, the worst a readiness probe can meet.
 */
async function hold(port = 0, server: Server = createServer()): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : -1;
}

/** Takes the first port it draws before handing it out (the race), then draws free ones. */
function racedDraw(takeWith: () => Server = createServer) {
  const drawn: number[] = [];
  return {
    drawn,
    draw: async () => {
      const port = await freePort();
      if (drawn.length === 0) await hold(port, takeWith());
      drawn.push(port);
      return port;
    },
  };
}

const ephemeralLow = Number.parseInt(
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
  10,
);
/** The top of the draw: below 32768 (and below this machine's ephemeral range). */
const TOP = Math.min(32_767, ephemeralLow - 1);
/** The `random()` that draws `port`. */
const drawing = (port: number) => (port - 20_000 + 0.5) / (TOP - 20_000 + 1);

describe('freePort', () => {
  it('draws free ports from 20000 up to below the ephemeral range', async () => {
    const ports = await Promise.all(Array.from({ length: 30 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThanOrEqual(TOP);
    }
    // Spread over the range, not one port handed to every caller.
    expect(new Set(ports).size).toBeGreaterThan(25);
  });

  it('the bounds of the draw: random 0 is 20000, a random just below 1 the top of the range', async () => {
    // Each only when free on this machine: a draw that is taken is drawn again (next test).
    if (await claimPort(20_000, 'x').catch(() => undefined))
      expect(await freePort(() => 0)).toBe(20_000);
    if (await claimPort(TOP, 'x').catch(() => undefined))
      expect(await freePort(() => 0.999_999_9)).toBe(TOP);
  });

  it('a drawn port that is taken is passed over for the next draw', async () => {
    const taken = await hold(await freePort());
    const next = await freePort();
    const randoms = [drawing(taken), drawing(next)];
    expect(await freePort(() => randoms.shift() ?? 0)).toBe(next);
  });

  it('when every draw is taken, the OS picks (a port in the ephemeral range)', async () => {
    const taken = await hold(await freePort());
    const port = await freePort(() => drawing(taken));
    expect(port).toBeGreaterThanOrEqual(ephemeralLow);
  });
});

describe('claimPort', () => {
  it('a free requested port is returned as is; 0 is drawn', async () => {
    const port = await freePort();
    expect(await claimPort(port, '--x-port')).toBe(port);
    expect(await claimPort(0, '--x-port')).toBeGreaterThanOrEqual(20_000);
  });

  it('a taken requested port is PortTakenError naming the flag, the listen error kept', async () => {
    const port = await hold();
    const error = await claimPort(port, '--x-port').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortTakenError);
    expect(error).toMatchObject({
      message: `port ${port} is taken: pass --x-port N`,
      port,
      flag: '--x-port',
      cause: { code: 'EADDRINUSE' },
    });
  });
});

describe('launchOnPort', () => {
  const taken = (port: number) => new PortTakenError(port, '--x-port');

  it('a drawn port lost to someone else is drawn again, up to three launches', async () => {
    const tried: number[] = [];
    const ports = [101, 102, 103];
    const draw = async () => ports.shift() ?? -1;
    const result = await launchOnPort(
      0,
      '--x-port',
      async (port) => {
        tried.push(port);
        if (port !== 103) throw taken(port);
        return `on ${port}`;
      },
      draw,
    );
    expect(result).toBe('on 103');
    expect(tried).toEqual([101, 102, 103]);
  });

  it('the third loss is thrown', async () => {
    let n = 100;
    const error = await launchOnPort(
      0,
      '--x-port',
      async (port) => {
        throw taken(port);
      },
      async () => ++n,
    ).catch((e: unknown) => e);
    expect(error).toEqual(taken(103));
  });

  it('other failures are not retried', async () => {
    const launched: number[] = [];
    const boom = new Error('no java');
    await expect(
      launchOnPort(
        0,
        '--x-port',
        async (port) => {
          launched.push(port);
          throw boom;
        },
        async () => 7,
      ),
    ).rejects.toBe(boom);
    expect(launched).toEqual([7]);
  });

  it('a port the user asked for is checked first and never swapped for another', async () => {
    const port = await hold();
    const launched: number[] = [];
    const launch = async (p: number) => {
      launched.push(p);
      throw taken(p);
    };
    await expect(launchOnPort(port, '--x-port', launch)).rejects.toThrow(taken(port));
    expect(launched).toEqual([]); // refused before launching
    const free = await freePort();
    await expect(launchOnPort(free, '--x-port', launch)).rejects.toThrow(taken(free));
    expect(launched).toEqual([free]); // lost while launching: thrown, not redrawn
  });
});

describe('the launchers, when their drawn port is taken before they listen', () => {
  it('DynamoDB Local starts on the next draw', async () => {
    const { drawn, draw } = racedDraw();
    const dynamodb = await launchDynamoDbLocal({ drawPort: draw });
    try {
      expect(drawn).toHaveLength(2);
      expect(dynamodb.port).toBe(drawn[1]);
      // DynamoDB answers there (an unsigned request: its own error, with its request id)…
      const res = await fetch(dynamodb.endpoint, { method: 'POST' });
      expect(res.headers.get('x-amzn-requestid')).toMatch(/\S/);
      // …and the JVM that lost the first port was not left behind.
      const jvms = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      expect(jvms).not.toContain(`-port ${drawn[0]}`);
      expect(jvms).toContain(`-port ${drawn[1]}`);
    } finally {
      await dynamodb.stop();
    }
  }, 120_000);

  it('cognito-local starts on the next draw, even when the port is taken by an HTTP server', async () => {
    // One that answers 404 to everything: the readiness probe must not mistake it for ours.
    const { drawn, draw } = racedDraw(() =>
      createHttpServer((_req, res) => res.writeHead(404).end()),
    );
    const cognito = await launchCognitoLocal({
      pools: [{ id: 'us-east-1_Ports' }],
      drawPort: draw,
    });
    try {
      expect(drawn).toHaveLength(2);
      expect(cognito.port).toBe(drawn[1]);
      const jwks = await fetch(cognito.localJwksUri('us-east-1_Ports'));
      expect(jwks.status).toBe(200);
    } finally {
      await cognito.stop();
    }
  }, 120_000);
});
