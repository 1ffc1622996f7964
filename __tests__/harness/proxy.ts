import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** A TCP proxy in front of a test database, to cut connections as a server restart does. */
export interface DatabaseProxy {
  /** The database URL, through the proxy. */
  url: string;
  /** Drops every connection and refuses new ones for `downMs`, then accepts again. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(databaseUrl: string): Promise<DatabaseProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const newServer = () =>
    createServer((client) => {
      const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  let server = newServer();
  const port = await listen(server, 0);
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return {
    url: url.toString(),
    restart: async (downMs) => {
      await close();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = newServer();
      await listen(server, port);
    },
    close,
  };
}
