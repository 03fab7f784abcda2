import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/db/lock.js';

const ROUNDS = 40;
const dir = mkdtempSync(join(tmpdir(), 'prs-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One contender: in each round, at the same instant as the other, it tries
 * to take the round's lock; holding it, it does a slow read-modify-write of
 * the round's counter (two holders at once would lose one increment) and only
 * then acknowledges the write on stdout.
 */
const CONTENDER = `
import { readFileSync, writeFileSync } from 'node:fs';
const { lockDataDir } = await import(process.argv[1]);
const [dir, start, rounds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (let r = 0; r < rounds; r++) {
  while (Date.now() < start + r * 60) {}
  let lock;
  try { lock = lockDataDir(dir + '/round-' + r); } catch { continue; }
  const file = dir + '/counter-' + r;
  let n = 0;
  try { n = Number(readFileSync(file, 'utf8')); } catch {}
  pause(15);
  writeFileSync(file, String(n + 1));
  process.stdout.write('ack ' + r + '\\n');
  pause(15);
  lock.release();
}
`;

function contender(start: number): Promise<string> {
  const lockModule = new URL('../../dist/src/db/lock.js', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER, lockModule, dir, String(start), String(ROUNDS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`contender exited ${code}`))));
  });
}

describe('the embedded data-directory lock', () => {
  it(`${ROUNDS} pairs of processes at the same instant: one holder per round, no acknowledged write lost, stale locks taken over`, async () => {
    // Half the rounds start from a lock left by a crashed process, so both contenders race to take it over.
    for (let r = 0; r < ROUNDS; r += 2) {
      writeFileSync(join(dir, `round-${r}.lock`), JSON.stringify({ pid: 2 ** 22 + 1, token: 'dead', command: 'crashed', since: 'earlier' }));
    }
    const start = Date.now() + 600;
    const outputs = await Promise.all([contender(start), contender(start)]);
    const acks = outputs.join('').split('\n').filter(Boolean);
    for (let r = 0; r < ROUNDS; r++) {
      const acked = acks.filter((a) => a === `ack ${r}`).length;
      const stored = Number(readFileSync(join(dir, `counter-${r}`), 'utf8'));
      expect({ round: r, stored }).toEqual({ round: r, stored: acked });
    }
    expect(acks.length).toBeGreaterThanOrEqual(ROUNDS);
  });

  it('names the holder, and refuses a second open in the same process', () => {
    const lock = lockDataDir(join(dir, 'same'));
    try {
      expect(() => lockDataDir(join(dir, 'same'))).toThrow(/already open in this process/);
    } finally {
      lock.release();
    }
    lockDataDir(join(dir, 'same')).release();
  });
});
