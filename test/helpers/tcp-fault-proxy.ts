// A small TCP fault proxy for tests: forwards 127.0.0.1:<port> to a target, and on demand simulates
// the target going down (every open connection is reset, new ones are reset as they arrive) and
// coming back. Cheaper than restarting the real service, and it never touches the shared stack.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpFaultProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Bytes forwarded from clients to the target so far. */
  readonly bytesUp: number;
  /** Connections accepted so far, and of those the ones reset while down. */
  readonly connections: number;
  readonly resets: number;
  /** Down: resets every open connection now, and every new one until `up()`. */
  down(): void;
  up(): void;
  /** Goes down once, the first time more than `bytes` have been forwarded upstream. */
  downAfterBytes(bytes: number): void;
  close(): Promise<void>;
}

function reset(socket: Socket): void {
  // An RST, as a crashed or restarting server's kernel would send, not a polite FIN.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

export async function startTcpFaultProxy(target: { host: string; port: number }): Promise<TcpFaultProxy> {
  let isDown = false;
  let tripAt: number | undefined;
  let bytesUp = 0;
  let connections = 0;
  let resets = 0;
  const open = new Set<Socket>();

  const goDown = () => {
    isDown = true;
    for (const s of open) {
      resets++;
      reset(s);
    }
    open.clear();
  };

  const server: Server = createServer((client) => {
    connections++;
    if (isDown) {
      resets++;
      reset(client);
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    const drop = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      bytesUp += chunk.length;
      if (tripAt !== undefined && bytesUp > tripAt) {
        tripAt = undefined;
        goDown();
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get bytesUp() {
      return bytesUp;
    },
    get connections() {
      return connections;
    },
    get resets() {
      return resets;
    },
    down: goDown,
    up: () => {
      isDown = false;
    },
    downAfterBytes: (bytes) => {
      tripAt = bytesUp + bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
