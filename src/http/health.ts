/** What health needs of the migration engine: the revisions applied, and those the code expects. */
export interface SchemaInspector {
  current(): Promise<string[]>;
  heads(): string[];
}

export const SERVICE = { name: 'provider-registration-service', version: '1.0.0' } as const;

export interface HealthReport {
  healthy: boolean;
  body: {
    status: 'healthy' | 'unhealthy';
    service: string;
    version: string;
    database: 'connected' | 'disconnected';
    schema: { current: string | null; head: string };
  };
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Healthy means: the database answers (within `timeoutMs`, so a hung
 * database makes health fail rather than hang) and its schema is the code's
 * head. A replica that does not migrate reports unhealthy until someone has.
 */
export async function checkHealth(schema: SchemaInspector, timeoutMs: number): Promise<HealthReport> {
  const head = schema.heads().join(',');
  let current: string[] | undefined;
  try {
    current = await within(schema.current(), timeoutMs);
  } catch {
    current = undefined;
  }
  const at = current === undefined ? null : current.join(',') || null;
  const healthy = current !== undefined && at === head;
  return {
    healthy,
    body: {
      status: healthy ? 'healthy' : 'unhealthy',
      service: SERVICE.name,
      version: SERVICE.version,
      database: current === undefined ? 'disconnected' : 'connected',
      schema: { current: at, head },
    },
  };
}
