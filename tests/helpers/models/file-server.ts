/**
 * A small HTTP file server for loader tests (127.0.0.1, random port). It can honour or ignore Range,
 * drop the connection part-way through a file, answer errors, stall, and it logs every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestLog {
  path: string;
  range?: string;
  ifRange?: string;
  cacheControl?: string;
  status: number;
}

export interface FileServerOptions {
  /** honour Range requests (206); false answers the whole file with 200 */
  range?: boolean;
  /** refuse to serve more than this many requests (guards against retry loops) */
  maxRequests?: number;
  /** answer CORS preflights and allow any origin (for a browser page on another origin) */
  cors?: boolean;
}

export class FileServer {
  readonly files = new Map<string, Uint8Array>();
  readonly log: RequestLog[] = [];
  range: boolean;
  /** per path: drop the connection after this many body bytes, for the next `times` responses */
  readonly drops = new Map<string, { afterBytes: number; times: number }>();
  /** per path: answer this status for the next `times` requests */
  readonly failures = new Map<string, { status: number; times: number }>();
  /** per path: serve these bytes instead of the file, for the next `times` requests (a stale copy) */
  readonly stale = new Map<string, { data: Uint8Array; times: number }>();
  /** per path: send this many bytes, then go silent (keep the socket open) */
  readonly stalls = new Map<string, { afterBytes: number; times: number }>();
  /** block every request (like a server that is down): the socket is destroyed at once */
  offline = false;
  private server: Server;
  private readonly maxRequests: number;
  private readonly cors: boolean;
  private port = 0;

  constructor(opts: FileServerOptions = {}) {
    this.range = opts.range ?? true;
    this.maxRequests = opts.maxRequests ?? 500;
    this.cors = opts.cors ?? false;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  requests(path?: string): RequestLog[] {
    return path === undefined ? this.log : this.log.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private stales(path: string): Uint8Array | undefined {
    const s = this.stale.get(path);
    if (!s || s.times <= 0) return undefined;
    s.times--;
    return s.data;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (this.cors) {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-expose-headers', 'content-range, content-length, etag, accept-ranges');
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, { 'access-control-allow-headers': 'range, if-range, cache-control', 'access-control-allow-methods': 'GET' })
          .end();
        return;
      }
    }
    const entry: RequestLog = { path, status: 0 };
    if (req.headers.range) entry.range = req.headers.range;
    if (typeof req.headers['if-range'] === 'string') entry.ifRange = req.headers['if-range'];
    if (typeof req.headers['cache-control'] === 'string') entry.cacheControl = req.headers['cache-control'];
    this.log.push(entry);
    if (this.offline || this.log.length > this.maxRequests) {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    const fail = this.failures.get(path);
    if (fail && fail.times > 0) {
      fail.times--;
      entry.status = fail.status;
      res.writeHead(fail.status).end();
      return;
    }
    const stale = this.stales(path);
    const body = stale ?? this.files.get(path);
    if (!body) {
      entry.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    const etag = `"${body.byteLength}-${body[0] ?? 0}-${body[body.byteLength - 1] ?? 0}"`;
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      etag,
      'accept-ranges': this.range ? 'bytes' : 'none',
    };
    const m = req.headers.range && /^bytes=(\d+)-$/.exec(req.headers.range);
    const ifRangeOk = !req.headers['if-range'] || req.headers['if-range'] === etag;
    if (this.range && m && ifRangeOk) {
      start = Number(m[1]);
      if (start >= body.byteLength) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${body.byteLength}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.byteLength - 1}/${body.byteLength}`;
    }
    const part = body.subarray(start);
    headers['content-length'] = String(part.byteLength);
    entry.status = status;
    res.writeHead(status, headers);
    const drop = this.drops.get(path);
    const stall = this.stalls.get(path);
    if (drop && drop.times > 0 && drop.afterBytes < part.byteLength) {
      drop.times--;
      // Flush the first bytes, then cut the connection mid-body.
      res.write(part.subarray(0, drop.afterBytes), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    if (stall && stall.times > 0 && stall.afterBytes < part.byteLength) {
      stall.times--;
      res.write(part.subarray(0, stall.afterBytes));
      return; // never ends; closeAllConnections() cleans up
    }
    res.end(part);
  }
}
