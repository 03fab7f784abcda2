/**
 * The engine's whole view of a database, so it can run on any driver: one
 * statement with parameters, a parameterless script, and a pinned session
 * for work that needs session state (an advisory lock, BEGIN ... COMMIT).
 */
export interface SqlSession {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  exec(text: string): Promise<void>;
}

export interface SqlClient extends SqlSession {
  session<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
}

/** Time as the runtime sees it; tests replace it so waits cost nothing. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
