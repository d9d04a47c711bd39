/**
 * Loopback ports for what must be told its port before it listens: cognito-local and DynamoDB
 * Local (child processes), and the console, whose origin the APIs allow before it starts.
 *
 * Why not the port the OS gives for bind(0): that port lies in the ephemeral range, which the
 * kernel also hands out as the source port of outgoing connections. Between our check and the
 * child's listen (0.5–3 s for a JVM on a busy 2-core machine) any of the hundreds of SDK
 * connections a test run makes may take it, and the child fails with EADDRINUSE (the likeliest
 * cause of a CI run's lone `npm start` failure, whose stderr the test had discarded). A port drawn below the ephemeral range can only be
 * taken by another process choosing that very port; a launch that still loses its port draws again.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { PortTakenError } from './errors.js';

/** Below Linux's (32768–60999), macOS's and Windows' (49152–65535) default ephemeral ranges. */
const DRAW_LOW = 20_000;
const DRAW_HIGH = 32_767;
/** Draws before giving up on the range (each one taken: the range is crowded) and asking the OS. */
const DRAWS = 20;

/** The low end of this machine's ephemeral range (Linux); undefined elsewhere. */
function ephemeralLow(): number | undefined {
  try {
    const low = Number.parseInt(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'), 10);
    return Number.isInteger(low) ? low : undefined;
  } catch {
    return undefined; // not Linux
  }
}

/**
 * Listens on 127.0.0.1:`port` and closes again: undefined when it was free, the EADDRINUSE/EACCES
 * error when it was not; rejects on any other error.
 */
const probe = (port: number): Promise<NodeJS.ErrnoException | undefined> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(error) : reject(error),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
  });

/** What the OS gives for bind(0): the fallback when no drawn port is free. */
const osPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });

/**
 * A free loopback port below the ephemeral range (see the module comment), or the OS's choice
 * when that range is crowded or the machine's ephemeral range leaves too little room below it.
 * @param random Injectable for tests; default `Math.random`.
 */
export async function freePort(random: () => number = Math.random): Promise<number> {
  const high = Math.min(DRAW_HIGH, (ephemeralLow() ?? DRAW_HIGH + 1) - 1);
  if (high - DRAW_LOW >= 1_000) {
    for (let i = 0; i < DRAWS; i++) {
      const port = DRAW_LOW + Math.floor(random() * (high - DRAW_LOW + 1));
      if ((await probe(port)) === undefined) return port;
    }
  }
  return osPort();
}

/**
 * `port` when it is free on 127.0.0.1, a free port when it is 0.
 * @throws PortTakenError naming `flag`, the option that picks another port.
 */
export async function claimPort(port: number, flag: string): Promise<number> {
  if (port === 0) return freePort();
  const taken = await probe(port);
  if (taken) throw new PortTakenError(port, flag, { cause: taken });
  return port;
}

/** Launches that lose a port they were not asked for try again with another, this many times. */
const LAUNCH_TRIES = 3;

/**
 * Runs `launch` on `requested` (checked free), or on a drawn port when `requested` is 0. A drawn
 * port taken before the launched process listened (`launch` throws PortTakenError) is drawn again:
 * the user did not choose it, so losing it is no reason to fail. A requested port is never swapped.
 * @param draw Injectable for tests; default {@link freePort}.
 */
export async function launchOnPort<T>(
  requested: number,
  flag: string,
  launch: (port: number) => Promise<T>,
  draw: () => Promise<number> = freePort,
): Promise<T> {
  if (requested !== 0) return launch(await claimPort(requested, flag));
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await draw());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= LAUNCH_TRIES) throw error;
    }
  }
}
