import type { SqlClient } from '../runtime/client.js';
import { Migrator, type MigrationEvent } from '../runtime/migrator.js';
import type { RunPolicy } from '../runtime/policy.js';
import type { VersionTableName } from '../runtime/version-table.js';
import { loadScriptDirectory, type ScriptDirectory } from '../script/loader.js';

/** A connection the commands open when they need the database, and close after. */
export interface Connection extends SqlClient {
  /** Where it points, safe to print (no password). */
  readonly description: string;
  close(): Promise<void>;
}

/** What a host project gives the commands (what Alembic's Config and env.py give). */
export interface MigrateConfig {
  versionsDir: string;
  connect(): Promise<Connection>;
  /** Import specifier of the engine's types as seen from a file in versionsDir (for new revision files). */
  typesImport: string;
  policy?: Partial<RunPolicy>;
  versionTable?: VersionTableName;
  onEvent?: (e: MigrationEvent) => void;
  /** The schema the project wants (its model), for `check` and `revision --autogenerate`. */
  model?: ModelSource;
  /** Tables of other tools that `check` and autogenerate leave alone (the version table always is). */
  ignoreTables?: readonly string[];
}

/** How the engine learns the project's model without knowing its ORM: the SQL that builds it, and a scratch database to build it in. */
export interface ModelSource {
  /** Statements that build the model on an empty database. */
  ddl(): Promise<readonly string[]>;
  /** A new, empty database, closed after use. */
  scratch(): Promise<Connection>;
}

/**
 * One command's view of the project: scripts loaded once, connections opened
 * on first use and all closed by `close()`, so a command that never needs the
 * database never opens it.
 */
export class CommandContext {
  private scriptsLoaded: Promise<ScriptDirectory> | undefined;
  private opened: Promise<Connection> | undefined;

  constructor(readonly config: MigrateConfig) {}

  scripts(): Promise<ScriptDirectory> {
    return (this.scriptsLoaded ??= loadScriptDirectory(this.config.versionsDir));
  }

  /** The one connection of this command (an embedded database can be opened once per process). */
  connect(): Promise<Connection> {
    return (this.opened ??= this.config.connect());
  }

  async migrator(): Promise<{ migrator: Migrator; database: string }> {
    const [scripts, c] = await Promise.all([this.scripts(), this.connect()]);
    const migrator = new Migrator({
      client: c,
      scripts,
      ...(this.config.onEvent ? { onEvent: this.config.onEvent } : {}),
      ...(this.config.policy ? { policy: this.config.policy } : {}),
      ...(this.config.versionTable ? { versionTable: this.config.versionTable } : {}),
    });
    return { migrator, database: c.description };
  }

  async close(): Promise<void> {
    const c = this.opened;
    this.opened = undefined;
    await c?.then((x) => x.close()).catch(() => {});
  }
}
