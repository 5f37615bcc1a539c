import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The ports below the system's ephemeral range: a port chosen there cannot become the local end of
 * an outgoing connection between being chosen and being bound (in a CI run the dev server once
 * exited on one taken that way), as one the system hands out for `listen(0)` can.
 */
function listeningRange(): [from: number, to: number] | undefined {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low > 12_000 ? [10_000, low - 1] : undefined;
  } catch {
    return undefined; // not Linux: take what the system hands out
  }
}

const LISTENING_RANGE = listeningRange();

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return LISTENING_RANGE ? freePortIn(...LISTENING_RANGE) : anyFreePort();
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Thrown when a port the embedded default needs is taken. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly variable: string,
  ) {
    super(`port ${port} is already in use (${variable}); stop what uses it or set ${variable} to a free port`);
  }
}

export function assertPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, variable) : err));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** Whether `port` can be bound on 127.0.0.1 now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port in `[from, to]` that was free on 127.0.0.1 a moment ago, found by random tries. */
async function freePortIn(from: number, to: number): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${from} and ${to}`);
}

export interface FreePortsOptions {
  /** Ports not to return (chosen already). */
  taken?: Iterable<number>;
  /** Only ports in `[from, to]`. @default any port the system hands out */
  range?: [from: number, to: number];
}

/** `count` distinct ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts(count: number, options: FreePortsOptions = {}): Promise<number[]> {
  const seen = new Set(options.taken);
  const ports: number[] = [];
  while (ports.length < count) {
    const port = options.range ? await freePortIn(...options.range) : await freePort();
    if (seen.has(port)) continue;
    seen.add(port);
    ports.push(port);
  }
  return ports;
}
