import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A stand-in for the billing service on 127.0.0.1: a real HTTP server, so the
 * service's client, timeouts and retries run for real. Each POST /provider
 * takes the next planned behaviour; when the plan is empty it creates a
 * provider (201, `{"id": n}`).
 */
export type Behaviour =
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  /** Accepts the request and never answers. */
  | 'hang'
  /** Drops the connection without an answer. */
  | 'reset';

export interface Call {
  at: number;
  body: unknown;
}

export class BillingStub {
  readonly calls: Call[] = [];
  /** Ids handed out with a 201: the providers that exist. */
  readonly created: number[] = [];
  /**
   * Refuse a second provider of one name with 409, as the real billing
   * service does (its repository's unique name).
   */
  uniqueNames = false;
  private readonly names = new Set<string>();
  private plan: Behaviour[] = [];
  private nextId = 1000;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<BillingStub> {
    let stub: BillingStub | undefined;
    const server = createServer((req, res) => void stub?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('stub has no port');
    stub = new BillingStub(server, `http://127.0.0.1:${address.port}`);
    server.on('connection', (s: Socket) => {
      stub?.sockets.add(s);
      s.once('close', () => stub?.sockets.delete(s));
    });
    return stub;
  }

  /** The next requests' behaviours, in order. */
  will(...behaviours: Behaviour[]): void {
    this.plan.push(...behaviours);
  }

  reset(): void {
    this.plan = [];
    this.calls.length = 0;
    this.created.length = 0;
    this.names.clear();
    this.uniqueNames = false;
  }

  /** Milliseconds between consecutive calls. */
  gaps(): number[] {
    return this.calls.slice(1).map((c, i) => c.at - (this.calls[i] as Call).at);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    if (req.method !== 'POST' || req.url !== '/provider') {
      res.writeHead(404).end();
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    this.calls.push({ at: Date.now(), body });
    const b = this.plan.shift() ?? { status: 201 };
    if (b === 'hang') return;
    if (b === 'reset') {
      req.socket.destroy();
      return;
    }
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    let answer = b.body;
    const name = String((body as { name?: unknown }).name);
    if (b.status === 201 && answer === undefined && this.uniqueNames && this.names.has(name)) {
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'Provider name must be unique' }));
      return;
    }
    if (b.status === 201 && answer === undefined) {
      this.names.add(name);
      const id = this.nextId++;
      this.created.push(id);
      answer = { id, name: (body as { name?: unknown }).name };
    }
    res.writeHead(b.status, { 'content-type': 'application/json', ...b.headers }).end(JSON.stringify(answer ?? {}));
  }
}
