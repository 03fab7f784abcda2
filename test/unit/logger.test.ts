import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logDestination, prettyLine } from '../../src/http/logger.js';

function terminal(isTTY: boolean): { out: Writable & { isTTY: boolean }; text: () => string } {
  let text = '';
  const out = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    }),
    { isTTY },
  );
  return { out, text: () => text };
}

describe('log format', () => {
  const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();

  it('a finished request is one short line: time, level, request id, method, URL, status, duration', () => {
    const line = prettyLine({
      level: 30,
      time,
      pid: 1,
      service: 'provider-registration-service',
      request_id: 'r-1',
      req: { method: 'POST', url: '/candidates' },
      res: { statusCode: 201 },
      responseTime: 3.14159,
      msg: 'request completed',
    });
    expect(line).toBe('03:04:05.006 INFO  r-1 POST /candidates 201 3.1 ms\n');
  });

  it('other lines: the message and its fields; an expected failure without a stack, an unexpected one with it', () => {
    expect(prettyLine({ level: 40, time, request_id: 'r-2', msg: 'billing service retry', attempt: 1, status: 503 })).toBe(
      '03:04:05.006 WARN  r-2 billing service retry attempt=1 status=503\n',
    );
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' };
    expect(prettyLine({ level: 40, time, msg: 'warned', err })).toBe('03:04:05.006 WARN  warned Error: boom\n');
    expect(prettyLine({ level: 50, time, msg: 'unexpected failure', err })).toBe(
      '03:04:05.006 ERROR unexpected failure Error: boom\nError: boom\n    at x (y.js:1:1)\n',
    );
  });

  it('LOG_FORMAT: auto is pretty on a terminal only; pretty and json force it', () => {
    expect(logDestination('auto', terminal(false).out)).toBeUndefined();
    expect(logDestination('json', terminal(true).out)).toBeUndefined();
    for (const [format, tty] of [['auto', true], ['pretty', false]] as const) {
      const t = terminal(tty);
      createLogger('info', logDestination(format, t.out)).info({ request_id: 'r-3' }, 'hello');
      expect(t.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  r-3 hello\n$/);
    }
  });
});
