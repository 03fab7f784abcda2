import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { PG_INT_MAX, ProviderCreationError, type ProviderRegistry } from '../candidates/index.js';

export interface BillingClientOptions {
  /** e.g. http://localhost:5002, without a trailing slash. */
  baseUrl: string;
  connectTimeoutMs?: number;
  /** Per attempt, connecting included. */
  totalTimeoutMs?: number;
  /** Attempts after the first. */
  retries?: number;
  /** First backoff; it doubles on each retry (0.5 s, 1 s, 2 s by default). */
  backoffMs?: number;
  /** A Retry-After longer than this is cut to it, so an approval cannot hang for an hour. */
  maxRetryAfterMs?: number;
  /**
   * After a try times out, how long its answer is still awaited (the client
   * has had its 502 by then): billing may have created the provider, and
   * its id must not be lost.
   */
  lateAnswerMs?: number;
}

/** The caller's logger (a request's), so that retries are logged under its request id. */
interface RetryLog {
  warn(obj: object, msg: string): void;
}

/** Statuses that say "try again later" rather than "this request is wrong". */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const MAX_BODY = 64 * 1024;
/** How much of billing's answer a 502 quotes: enough to say why, not a page of someone else's HTML. */
const QUOTED = 120;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

class ConnectTimeout extends Error {
  constructor(ms: number) {
    super(`connect timed out after ${ms} ms`);
  }
}

/** What billing said, cut short and on one line. */
function quote(body: string): string {
  let text = body;
  try {
    const detail = (JSON.parse(body) as { detail?: unknown }).detail;
    if (typeof detail === 'string') text = detail;
  } catch {
    // Not JSON: quoted as it is.
  }
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return line.length > QUOTED ? `${line.slice(0, QUOTED)}...` : line;
}

/** Seconds of a numeric Retry-After (an HTTP date falls back to backoff, as before). */
function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(header)) return undefined;
  return Number(header) * 1000;
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ? `${err.code}${err.message ? ` (${err.message})` : ''}` : (err.message ?? String(e));
}

/**
 * The billing service's `POST /provider`, with the Python service's
 * resilience: timeouts, retries on connection errors and the "later"
 * statuses, exponential backoff, a numeric Retry-After honoured; never a
 * retry on another 4xx. Unlike the Python service, a try that timed out is
 * not retried: billing may have created the provider all the same (a slow
 * billing got four providers that way), so the approval fails saying the
 * outcome is unknown, and the late answer is still awaited.
 */
export class BillingClient implements ProviderRegistry {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly o: Required<BillingClientOptions>;

  constructor(options: BillingClientOptions) {
    this.o = {
      connectTimeoutMs: 5_000,
      totalTimeoutMs: 10_000,
      retries: 3,
      backoffMs: 500,
      maxRetryAfterMs: 30_000,
      lateAnswerMs: 60_000,
      ...options,
    };
    this.url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/provider`);
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
  }

  get worstCaseMs(): number {
    const { retries, totalTimeoutMs, backoffMs, maxRetryAfterMs, lateAnswerMs } = this.o;
    return (retries + 1) * totalTimeoutMs + retries * Math.max(backoffMs * 2 ** retries, maxRetryAfterMs) + lateAnswerMs;
  }

  async createProvider(name: string, log?: RetryLog): Promise<number> {
    const body = JSON.stringify({ name });
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.o.retries;
      const backoff = this.o.backoffMs * 2 ** attempt;
      const sent = this.post(body);
      let answer: Answer | 'timeout';
      const waited = new AbortController();
      try {
        answer = await Promise.race([sent, sleep(this.o.totalTimeoutMs, 'timeout' as const, { signal: waited.signal })]);
      } catch (e) {
        if (last) {
          throw new ProviderCreationError(
            e instanceof ConnectTimeout
              ? `Billing service timeout after retries: ${e.message}`
              : `Failed to connect to billing service after retries: ${describe(e)}`,
          );
        }
        log?.warn({ attempt: attempt + 1, error: describe(e), delay_ms: backoff }, 'billing service retry');
        await sleep(backoff);
        continue;
      } finally {
        waited.abort();
      }
      if (answer === 'timeout') {
        const late = sent.then(
          (a) => (a.status === 201 ? this.providerId(a) : undefined),
          () => undefined,
        );
        throw new ProviderCreationError(
          `Billing service timeout: no answer within ${this.o.totalTimeoutMs} ms; not retried, as the provider may have been created ` +
            '(a late answer is still recorded, and approving again later finishes the job)',
          late.catch(() => undefined),
        );
      }
      if (answer.status === 201) return this.providerId(answer);
      if (answer.status === 409) {
        throw new ProviderCreationError(
          `Billing service refused the name "${quote(name)}": a provider with this name already exists (409: ${quote(answer.body)})`,
        );
      }
      if (!RETRYABLE.has(answer.status) || last) {
        throw new ProviderCreationError(`Billing service returned ${answer.status}: ${quote(answer.body)}`);
      }
      const delay = Math.min(retryAfterMs(answer.retryAfter) ?? backoff, this.o.maxRetryAfterMs);
      log?.warn({ attempt: attempt + 1, status: answer.status, delay_ms: delay }, 'billing service retry');
      await sleep(delay);
    }
  }

  /** Lets a closing service end its idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private providerId(answer: Answer): number {
    let id: unknown;
    try {
      id = (JSON.parse(answer.body) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    // provider_id is an integer column: anything else would fail at the write, after the provider exists.
    if (typeof id !== 'number' || !Number.isInteger(id) || id < -PG_INT_MAX - 1 || id > PG_INT_MAX) {
      throw new ProviderCreationError(`Billing service answered 201 without an integer id: ${quote(answer.body)}`);
    }
    return id;
  }

  private post(body: string): Promise<Answer> {
    const { connectTimeoutMs, totalTimeoutMs, lateAnswerMs } = this.o;
    const request = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), accept: 'application/json' },
      });
      // The caller stops waiting at totalTimeoutMs; the request lives on for a late answer.
      const total = setTimeout(() => req.destroy(new Error('no answer, late or not')), totalTimeoutMs + lateAnswerMs);
      total.unref();
      req.once('close', () => clearTimeout(total));
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const connect = setTimeout(() => req.destroy(new ConnectTimeout(connectTimeoutMs)), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connect));
        req.once('close', () => clearTimeout(connect));
      });
      req.once('error', reject);
      req.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_BODY) text += chunk;
        });
        res.once('error', reject);
        res.once('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter, body: text });
        });
      });
      req.end(body);
    });
  }
}
