// Test support: a loopback HTTP server that stands in for AWS and only counts
// what reaches it. Point AWS_ENDPOINT_URL at it to prove that a command made
// no AWS call at all (expect `requests` to stay empty). It answers 400 so that
// a call that does slip through fails fast instead of being retried.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingServer {
  endpoint: string;
  /** One entry per request: method, path and the SDK's target/action when present. */
  requests: string[];
  close(): Promise<void>;
}

export async function startCountingServer(): Promise<CountingServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const target = req.headers['x-amz-target'] ?? '';
    let body = '';
    req.on('data', (c: Buffer) => {
      if (body.length < 200) body += c.toString('utf8');
    });
    req.on('end', () => {
      const action = /Action=([A-Za-z]+)/.exec(body)?.[1] ?? '';
      requests.push(`${req.method} ${req.url} ${target} ${action}`.trim());
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ __type: 'CountingServer', message: 'no AWS call was expected' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
