import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CommandContext, type Connection } from '../../src/migrate/commands/context.js';
import * as commands from '../../src/migrate/commands/index.js';
import { ResolutionError, ScriptError, UsageError } from '../../src/migrate/errors.js';
import type { MigrationEvent } from '../../src/migrate/runtime/migrator.js';
import { loadScriptDirectory, revisionFiles } from '../../src/migrate/script/loader.js';
import { RecordingClient } from '../support/recording-client.js';

/** A versions folder of plain .mjs revisions (no compiler needed), written for each test. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrate-unit-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const rev = (id: string, down: string | null, body = '', extra = ''): string =>
  `export default { revision: '${id}', downRevision: ${down === null ? 'null' : `'${down}'`}, message: 'rev ${id}', createDate: '2025-01-01 00:00:00'${extra},
    async upgrade(op) { await op.addColumn('t', 'c_${id}', { type: 'int' }); ${body} },
    async downgrade(op) { await op.dropColumn('t', 'c_${id}'); } };`;

const LINEAR = { '001_a.mjs': rev('001_a', null), '002_b.mjs': rev('002_b', '001_a', '', ", description: 'second'"), '003_c.mjs': rev('003_c', '002_b') };

describe('commands over a recording client', () => {
  let client: RecordingClient;
  let closed: number;
  let events: MigrationEvent[];
  const connection = (): Connection => ({
    description: 'recording client',
    query: (t, p) => client.query(t, p),
    exec: (t) => client.exec(t),
    session: (fn) => client.session(fn),
    close: async () => {
      closed++;
    },
  });
  const ctx = (dir: string): CommandContext =>
    new CommandContext({ versionsDir: dir, typesImport: 'engine', connect: async () => connection(), onEvent: (e) => events.push(e) });

  beforeEach(() => {
    client = new RecordingClient();
    closed = 0;
    events = [];
  });

  it('upgrades and downgrades, returning what ran and where the database is', async () => {
    const dir = folder(LINEAR);
    const c = ctx(dir);
    const up = await commands.upgrade(c, 'head');
    expect(up).toMatchObject({ direction: 'upgrade', database: 'recording client', target: 'head', current: ['003_c'], heads: ['003_c'] });
    expect(up.steps.map((s) => [s.label, s.message])).toEqual([
      ['<base> -> 001_a', 'rev 001_a'],
      ['001_a -> 002_b', 'rev 002_b'],
      ['002_b -> 003_c', 'rev 003_c'],
    ]);
    expect(events[0]).toEqual({ type: 'run-start', direction: 'upgrade', target: 'head', database: 'recording client' });
    const down = await commands.downgrade(c, '-2');
    expect(down.steps.map((s) => s.label)).toEqual(['003_c -> 002_b', '002_b -> 001_a']);
    expect(down.current).toEqual(['001_a']);
    await c.close();
    await c.close();
    expect(closed).toBe(1);
  });

  it('refuses relative steps that point the other way', async () => {
    const c = ctx(folder(LINEAR));
    await expect(commands.upgrade(c, '-1')).rejects.toThrow("'upgrade -1' would move down: use 'downgrade -1'");
    await expect(commands.downgrade(c, '+2')).rejects.toThrow("'downgrade +2' would move up: use 'upgrade +2'");
    await expect(commands.upgrade(c, ' -1 ')).rejects.toThrow(ResolutionError);
    expect(client.log).toEqual([]);
  });

  it('reports the current revision, unknown ones, and whether it is at head', async () => {
    const c = ctx(folder(LINEAR));
    expect(await commands.current(c)).toEqual({ database: 'recording client', current: [], revisions: [], unknown: [], heads: ['003_c'], atHead: false, interrupted: [] });
    client.tablePresent = true;
    client.versions = ['003_c'];
    const at = await commands.current(c);
    expect(at.atHead).toBe(true);
    expect(at.revisions[0]).toMatchObject({ revision: '003_c', isHead: true, isCurrent: true });
    client.versions = ['zzz'];
    expect(await commands.current(c)).toMatchObject({ revisions: [null], unknown: ['zzz'], atHead: false });
  });

  it('lists history, heads, branches and shows a revision, reading the database only when asked', async () => {
    const dir = folder({ ...LINEAR, '004_d.mjs': rev('004_d', '002_b') });
    const c = ctx(dir);
    const all = await commands.history(c);
    expect(all.map((s) => s.revision)).toEqual(['004_d', '003_c', '002_b', '001_a']);
    expect(all.find((s) => s.revision === '002_b')).toMatchObject({ isBranchPoint: true, children: ['003_c', '004_d'], description: 'second', path: expect.stringMatching(/002_b\.mjs$/) });
    expect(all[0]).not.toHaveProperty('isCurrent');
    expect(client.log).toEqual([]);
    client.tablePresent = true;
    client.versions = ['003_c'];
    const marked = await commands.history(c, { indicateCurrent: true });
    expect(marked.filter((s) => s.isCurrent).map((s) => s.revision)).toEqual(['003_c']);
    // From current up: its descendants only, not the sibling branch 004_d.
    expect((await commands.history(c, { range: 'current:' })).map((s) => s.revision)).toEqual(['003_c']);
    expect((await commands.history(c, { range: '002:' })).map((s) => s.revision)).toEqual(['004_d', '003_c', '002_b']);
    expect((await commands.history(c, { range: '002:003' })).map((s) => s.revision)).toEqual(['003_c', '002_b']);
    expect((await commands.heads(c)).map((s) => s.revision)).toEqual(['003_c', '004_d']);
    expect((await commands.branches(c)).map((s) => s.revision)).toEqual(['002_b']);
    expect((await commands.show(c, '001'))[0]).toMatchObject({ revision: '001_a', downRevisions: [], createDate: '2025-01-01 00:00:00', transactional: true, isHead: false, isMergePoint: false });
    await expect(commands.show(c, 'base')).rejects.toThrow("'base' is base, which is not a revision");
  });

  it('stamps', async () => {
    const c = ctx(folder(LINEAR));
    expect(await commands.stamp(c, '002')).toEqual({ database: 'recording client', from: [], to: ['002_b'] });
    client.versions = ['nope'];
    expect(await commands.stamp(c, 'head', { purge: true })).toMatchObject({ from: ['nope'], to: ['003_c'] });
  });

  it('renders --sql ranges and refuses what needs a database or holds nothing', async () => {
    const c = ctx(folder(LINEAR));
    const text = await commands.sql(c, 'upgrade', '001:head');
    expect(text).toContain('-- Running upgrade 001_a -> 002_b: rev 002_b');
    expect(text).not.toContain('<base> -> 001_a');
    expect(await commands.sql(c, 'upgrade', 'head')).toContain('<base> -> 001_a');
    expect(await commands.sql(c, 'downgrade', 'head:001')).toContain('-- Running downgrade 003_c -> 002_b');
    await expect(commands.sql(c, 'upgrade', 'current:head')).rejects.toThrow(UsageError);
    await expect(commands.sql(c, 'upgrade', '001:current')).rejects.toThrow(/'current' is relative to the database's current revision/);
    await expect(commands.sql(c, 'upgrade', '+1')).rejects.toThrow(/'\+1' is relative/);
    await expect(commands.sql(c, 'upgrade', 'head:base')).rejects.toThrow("upgrade --sql head:base: the range holds no upgrade step (did you mean 'downgrade --sql head:base'?)");
    await expect(commands.sql(c, 'downgrade', 'base:base')).rejects.toThrow("downgrade --sql base:base: the range holds no downgrade step (did you mean 'upgrade --sql base:base'?)");
    await expect(commands.sql(c, 'downgrade', 'head')).rejects.toThrow('downgrade --sql needs a starting point: <from>:<to>, e.g. head:base');
    await expect(commands.sql(c, 'upgrade', 'a:b:c')).rejects.toThrow("'a:b:c' must be <to> or <from>:<to>");
    expect(client.log).toEqual([]);
  });

  it('writes new revisions on the head, a branch only with splice, and refuses bad ids', async () => {
    const dir = folder(LINEAR);
    const c = ctx(dir);
    const r = await commands.revision(c, { message: '  Add an index! ' });
    expect(r).toMatchObject({ revision: '004_add_an_index', downRevisions: ['003_c'] });
    const text = readFileSync(r.path, 'utf8');
    expect(text).toContain("import type { Operations, RevisionModule } from 'engine';");
    expect(text).toContain("message: 'Add an index!'");
    const c2 = ctx(dir);
    await expect(commands.revision(c2, { message: 'x', head: '002' })).rejects.toThrow('002_b is not a head: add --splice to start a new branch from it');
    expect((await commands.revision(c2, { message: 'x', head: '002', splice: true, revId: 'branch_x' })).downRevisions).toEqual(['002_b']);
    await expect(commands.revision(ctx(dir), { message: 'y' })).rejects.toThrow(/several heads \(004_add_an_index, branch_x\): pick one with --head <rev>, or merge them with 'merge heads'/);
    await expect(commands.revision(ctx(dir), { message: ' ', head: 'branch_x' })).rejects.toThrow('--message must not be empty');
    await expect(commands.revision(ctx(dir), { message: 'z', head: 'branch_x', revId: 'bad-id' })).rejects.toThrow(/--rev-id must be letters, digits and _/);
    await expect(commands.revision(ctx(dir), { message: 'z', head: 'branch_x', revId: 'x'.repeat(33) })).rejects.toThrow(UsageError);
    await expect(commands.revision(ctx(dir), { message: 'z', head: 'branch_x', revId: '001_a' })).rejects.toThrow(/revision 001_a already exists/);
    // A file the loader skips (leading _) still blocks the name.
    writeFileSync(join(dir, '_taken.ts'), '');
    await expect(commands.revision(ctx(dir), { message: 'z', head: 'branch_x', revId: '_taken' })).rejects.toThrow(/_taken\.ts already exists/);
  });

  it('uses the project template next to the versions folder when there is one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'migrate-tmpl-'));
    const dir = join(root, 'versions');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, '001_a.mjs'), rev('001_a', null));
    writeFileSync(join(root, 'script.ts.tmpl'), '// {{revision}} on {{downRevision}}: {{message}} {{unknown}}\n');
    const r = await commands.revision(ctx(dir), { message: 'templated' });
    expect(readFileSync(r.path, 'utf8')).toBe("// '002_templated' on '001_a': 'templated' {{unknown}}\n");
    // Written all the same; the author hears why it could not be linted.
    expect(r.lint).toEqual([]);
    expect(r.notLinted).toMatch(/002_templated\.ts: not a revision module: `revision` must be a string/);
  });

  it('lints the revision it writes, read back as the engine will run it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'migrate-tmpl-'));
    const dir = join(root, 'versions');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, '001_a.mjs'), rev('001_a', null));
    writeFileSync(
      join(root, 'script.ts.tmpl'),
      "export default { revision: {{revision}}, downRevision: {{downRevision}}, message: {{message}}, async upgrade(op) { await op.createIndex('idx_a', 't', ['a']); }, downgrade() {} };\n",
    );
    const r = await commands.revision(ctx(dir), { message: 'indexed' });
    expect(r.notLinted).toBeNull();
    expect(r.lint).toMatchObject([{ revision: '002_indexed', direction: 'upgrade', rule: 'index-not-concurrent', message: 'index idx_a on t is built without CONCURRENTLY', accepted: null }]);
  });

  it('merges heads, warning on objects both branches touch', async () => {
    const dir = folder({
      '001_a.mjs': rev('001_a', null),
      '002_x.mjs': rev('002_x', '001_a', "await op.setColumnComment('t', 'shared', 'x');"),
      '002_y.mjs': rev('002_y', '001_a', "await op.setColumnComment('t', 'shared', 'y');"),
    });
    const m = await commands.merge(ctx(dir), { message: 'join' });
    expect(m.downRevisions).toEqual(['002_x', '002_y']);
    expect(m.conflicts).toEqual(['column t.shared: changed by 002_x and by 002_y']);
    expect(readFileSync(m.path, 'utf8')).toContain("downRevision: ['002_x', '002_y']");
    await expect(commands.merge(ctx(dir), { message: 'again', revisions: ['001'] })).rejects.toThrow('nothing to merge: 001 is one revision (001_a)');
  });
});

describe('loading a versions folder', () => {
  it('takes .ts/.mjs/.js files in order, skipping _ and . files and declarations', () => {
    const dir = folder({ 'b.mjs': '', 'a.ts': '', '_draft.ts': '', '.hidden.ts': '', 'types.d.ts': '', 'notes.md': '', 'c.js': '' });
    expect(revisionFiles(dir).map((f) => f.slice(dir.length + 1))).toEqual(['a.ts', 'b.mjs', 'c.js']);
    expect(() => revisionFiles(join(dir, 'missing'))).toThrow(/versions folder .*missing does not exist/);
  });

  it('reads a module default export or named exports, and names every problem with one that is not a revision', async () => {
    const dir = folder({
      '001.mjs': `export const revision = '001'; export const downRevision = null; export const message = 'named'; export const transactional = false; export const branchLabels = ['main']; export function upgrade() {} export function downgrade() {}`,
      '002.ts': `const x: number = 1; export default { revision: '002', downRevision: ['001'], message: 'typed ' + x, upgrade() {}, downgrade() {} };`,
    });
    const loaded = await loadScriptDirectory(dir);
    expect(loaded.map.heads).toEqual(['002']);
    expect(loaded.scripts.get('001')).toMatchObject({ transactional: false, branchLabels: ['main'], message: 'named', downRevisions: [] });
    expect(loaded.scripts.get('002')).toMatchObject({ transactional: true, message: 'typed 1', downRevisions: ['001'] });
    const bad = folder({ 'x.mjs': `export default { revision: 'a-b', downRevision: 5, message: 1, upgrade: 1 };` });
    await expect(loadScriptDirectory(bad)).rejects.toThrow(
      /x\.mjs: not a revision module: `revision` must be a string of letters, digits and _; `downRevision` must be null, a revision id or a list of them; `message` must be a string; `upgrade` must be a function; `downgrade` must be a function/,
    );
    const long = folder({ 'x.mjs': `export default { revision: '${'a'.repeat(33)}', downRevision: null, message: '', upgrade() {}, downgrade() {} };` });
    await expect(loadScriptDirectory(long)).rejects.toThrow(/`revision` is longer than 32 characters/);
    await expect(loadScriptDirectory(folder({ 'x.ts': 'export default {' }))).rejects.toThrow(ScriptError);
    await expect(loadScriptDirectory(folder({ 'x.mjs': 'throw new Error("at import")' }))).rejects.toThrow(/x\.mjs: does not load: at import/);
  });
});
