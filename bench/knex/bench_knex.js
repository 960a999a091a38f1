// bench_knex.js - Strata against Knex on the same generated workload, in
// one run, tools alternating.
//
// The workload: one migration that creates four tables linked by foreign
// keys (customer, product, orders, order_line) and M generated migrations
// (default 200) that create tables with foreign keys, add columns, indexes,
// foreign keys and unique constraints, and rename columns and tables. Each
// is written twice, as a Strata JSON migration and as a Knex migration with
// the same tables, columns, indexes and constraints. The seed is N rows
// (default 100,000: customer 10%, product 5%, orders 25%, order_line 60%),
// written as one Strata seed JSON with the rows inline (which the Knex seed
// reads too and loads with batchInsert) and as CSV files.
//
// For every database and repetition, on fresh empty databases, timed as
// child processes (wall clock, CPU, peak memory):
//
//   step          strata                                   knex
//   migrate       migrations run                           migrate:latest
//   migrate 1tx   migrations run --single-transaction      (the same migrate:latest)
//   seed json     seed -f seed.json --no-migrate           seed:run (batchInsert)
//   revert        migrations revert --all (with the rows)  migrate:rollback --all
//   revert 1tx    revert --all --single-transaction        (the same rollback, no rows)
//   seed csv      seed -f seed-csv.json --no-migrate       (the same seed:run)
//
// (the 1tx steps on PostgreSQL and SQLite, where DDL is transactional)
//
// The order of the two tools alternates between repetitions. After the
// first migrate the two schemas are compared table by table and column by
// column (names, order, nullability, index names, foreign keys); after each
// seed the row counts. It prints, per step, the median times, the ratio of
// the medians (strata / knex), the ratio of median CPU times and the peak
// memory; the target is a ratio of at most 0.5 on every step, and an inline
// seed under 64 MB.
//
//   node bench_knex.js [--migrations M] [--rows N] [--repeat R]
//                      [--databases postgres,mysql,sqlite] [--strata BIN]
//
// Run by bench/knex/bench_knex.sh, which installs Knex and the drivers from
// npm into a throwaway folder. Needs STRATA_TEST_PG_URL and
// STRATA_TEST_MYSQL_URL (scripts/services.sh), psql and mariadb.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');

function arg(name, def) {
    const i = process.argv.indexOf('--' + name);
    return i >= 0 ? process.argv[i + 1] : def;
}

const M = parseInt(arg('migrations', '200'), 10);
const N = parseInt(arg('rows', '100000'), 10);
const R = parseInt(arg('repeat', '3'), 10);
const DBS = arg('databases', 'postgres,mysql,sqlite').split(',');
const STRATA = path.resolve(arg('strata', process.env.STRATA_BIN || 'build/strata'));
const KNEX_CLI = require.resolve('knex/bin/cli.js');
const KNEX_VERSION = require('knex/package.json').version;
const work = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'strata-bench-knex-'));

// ---- the workload ----

// A deterministic generator (a 32-bit LCG; the shape, not the numbers,
// matters).
let seedState = 42;
function pick(n) {
    seedState = (Math.imul(seedState, 1103515245) + 12345) >>> 0;
    return (seedState >>> 8) % n;
}

function q(s) {
    return JSON.stringify(s);
}

// Migration 0: the seed's four tables.
const seedTablesStrata = [
    {op: 'create_table', table: 'customer', columns: [
        {name: 'id', type: 'bigint', primary_key: true},
        {name: 'email', type: 'string', nullable: false},
        {name: 'name', type: 'string'},
        {name: 'created_at', type: 'timestamptz', nullable: false},
        {name: 'active', type: 'boolean', nullable: false}]},
    {op: 'create_table', table: 'product', columns: [
        {name: 'id', type: 'bigint', primary_key: true},
        {name: 'sku', type: 'string', nullable: false},
        {name: 'title', type: 'string', nullable: false},
        {name: 'price', type: 'decimal', precision: 10, scale: 2}]},
    {op: 'create_table', table: 'orders', columns: [
        {name: 'id', type: 'bigint', primary_key: true},
        {name: 'customer_id', type: 'bigint', nullable: false, references: {table: 'customer'}},
        {name: 'placed_at', type: 'timestamptz', nullable: false},
        {name: 'status', type: 'string', nullable: false},
        {name: 'total', type: 'decimal', precision: 12, scale: 2}]},
    {op: 'create_table', table: 'order_line', columns: [
        {name: 'id', type: 'bigint', primary_key: true},
        {name: 'order_id', type: 'bigint', nullable: false, references: {table: 'orders'}},
        {name: 'product_id', type: 'bigint', nullable: false, references: {table: 'product'}},
        {name: 'quantity', type: 'integer', nullable: false},
        {name: 'unit_price', type: 'decimal', precision: 10, scale: 2}]},
];

const seedTablesKnex = `
exports.up = async function (knex) {
    await knex.schema.createTable('customer', (t) => {
        t.bigInteger('id').notNullable().primary('customer_pkey');
        t.string('email').notNullable();
        t.string('name');
        t.timestamp('created_at', {useTz: true, precision: 6}).notNullable();
        t.boolean('active').notNullable();
    });
    await knex.schema.createTable('product', (t) => {
        t.bigInteger('id').notNullable().primary('product_pkey');
        t.string('sku').notNullable();
        t.string('title').notNullable();
        t.decimal('price', 10, 2);
    });
    await knex.schema.createTable('orders', (t) => {
        t.bigInteger('id').notNullable().primary('orders_pkey');
        t.bigInteger('customer_id').notNullable();
        t.foreign('customer_id', 'orders_customer_id_foreign').references('id').inTable('customer');
        t.timestamp('placed_at', {useTz: true, precision: 6}).notNullable();
        t.string('status').notNullable();
        t.decimal('total', 12, 2);
    });
    await knex.schema.createTable('order_line', (t) => {
        t.bigInteger('id').notNullable().primary('order_line_pkey');
        t.bigInteger('order_id').notNullable();
        t.foreign('order_id', 'order_line_order_id_foreign').references('id').inTable('orders');
        t.bigInteger('product_id').notNullable();
        t.foreign('product_id', 'order_line_product_id_foreign').references('id').inTable('product');
        t.integer('quantity').notNullable();
        t.decimal('unit_price', 10, 2);
    });
};
exports.down = async function (knex) {
    for (const t of ['order_line', 'orders', 'product', 'customer'])
        await knex.schema.dropTable(t);
};
`;

// The generated migrations: each change as a Strata op list, a Knex up and
// a Knex down (names as they are at that migration).
function generate(n) {
    const g = {tables: [], serial: 0};
    const migs = [];
    function createTable() {
        const t = {name: 'tbl' + g.tables.length, id: g.tables.length, cols: []};
        const parent = g.tables.length ? g.tables[pick(g.tables.length)].name : null;
        g.tables.push(t);
        const ix = 'ix' + g.serial++;
        const cols = [
            {name: 'id', type: 'serial', primary_key: true},
            {name: 'name', type: 'string', length: 100, nullable: false, default: ''},
            {name: 'created_at', type: 'timestamptz', default: {expr: 'now'}},
            {name: 'amount', type: 'decimal', precision: 12, scale: 2}];
        let kcols = `t.increments('id').primary(${q(t.name + '_pkey')});
        t.string('name', 100).notNullable().defaultTo('');
        t.timestamp('created_at', {useTz: true, precision: 6}).defaultTo(/sqlite/.test(knex.client.config.client) ? knex.fn.now() : knex.fn.now(6));
        t.decimal('amount', 12, 2);`;
        if (parent) {
            cols.push({name: 'parent_id', type: 'integer',
                       references: {table: parent, on_delete: 'cascade'}});
            kcols += `
        t.integer('parent_id').unsigned();
        t.foreign('parent_id', ${q(t.name + '_parent_id_foreign')}).references('id').inTable(${q(parent)}).onDelete('CASCADE');`;
        }
        return {
            strata: [{op: 'create_table', table: t.name, columns: cols},
                     {op: 'create_index', table: t.name, name: ix, columns: ['name', 'created_at']}],
            up: `await knex.schema.createTable(${q(t.name)}, (t) => {
        ${kcols}
        t.index(['name', 'created_at'], ${q(ix)});
    });`,
            down: `await knex.schema.dropTable(${q(t.name)});`,
        };
    }
    function addColumn() {
        const t = g.tables[pick(g.tables.length)];
        const c = colName(t);
        t.cols.push({name: c, fk: false});
        const ix = 'ix' + g.serial++;
        return {
            strata: [{op: 'add_column', table: t.name, column: {name: c, type: 'integer'}},
                     {op: 'create_index', table: t.name, name: ix, columns: [c]}],
            up: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.integer(${q(c)});
        t.index([${q(c)}], ${q(ix)});
    });`,
            down: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.dropIndex([${q(c)}], ${q(ix)});
    });
    await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.dropColumn(${q(c)});
    });`,
        };
    }
    function addForeignKey() {
        const t = g.tables[pick(g.tables.length)];
        const to = g.tables[pick(g.tables.length)];
        const c = colName(t);
        t.cols.push({name: c, fk: true});
        const fk = 'fk' + g.serial++;
        return {
            strata: [{op: 'add_column', table: t.name, column: {name: c, type: 'integer'}},
                     {op: 'add_foreign_key', table: t.name, name: fk, columns: [c],
                      references: {table: to.name, columns: ['id']}, on_delete: 'set_null'}],
            up: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.integer(${q(c)}).unsigned();
    });
    await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.foreign(${q(c)}, ${q(fk)}).references('id').inTable(${q(to.name)}).onDelete('SET NULL');
    });`,
            down: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.dropForeign([${q(c)}], ${q(fk)});
    });
    await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.dropColumn(${q(c)});
    });`,
        };
    }
    // Column names hold their table's number: Knex's renameColumn on MySQL
    // re-creates the foreign keys that reference the table and renames a
    // column of the same name in them too.
    function colName(t) {
        return 't' + t.id + 'c' + t.cols.length;
    }
    // Columns with a foreign key are not renamed: Knex's renameColumn on
    // MySQL re-adds the key under the new name before the column has it.
    function renameColumn() {
        for (let tries = 0; tries < 8; tries++) {
            const t = g.tables[pick(g.tables.length)];
            const free = t.cols.filter((c) => !c.fk && !c.name.endsWith('_r'));
            if (free.length) {
                const col = free[pick(free.length)];
                const from = col.name;
                col.name = from + '_r';
                return {
                    strata: [{op: 'rename_column', table: t.name, column: from, to: col.name}],
                    up: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.renameColumn(${q(from)}, ${q(col.name)});
    });`,
                    down: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.renameColumn(${q(col.name)}, ${q(from)});
    });`,
                };
            }
        }
        return addColumn();
    }
    function renameTable() {
        const t = g.tables[pick(g.tables.length)];
        const from = t.name;
        t.name = 'tbl' + g.tables.indexOf(t) + '_v' + g.serial++;
        return {
            strata: [{op: 'rename_table', table: from, to: t.name}],
            up: `await knex.schema.renameTable(${q(from)}, ${q(t.name)});`,
            down: `await knex.schema.renameTable(${q(t.name)}, ${q(from)});`,
        };
    }
    function addUnique() {
        const t = g.tables[pick(g.tables.length)];
        // not over a foreign key's column: InnoDB then drops the index it
        // made for the key, and Knex's dropUnique on MySQL fails
        const plain = t.cols.filter((c) => !c.fk);
        if (plain.length === 0)
            return addColumn();
        const c = plain[pick(plain.length)].name;
        const uq = 'uq' + g.serial++;
        return {
            strata: [{op: 'add_unique', table: t.name, name: uq, columns: [c, 'id']}],
            up: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.unique([${q(c)}, 'id'], {indexName: ${q(uq)}});
    });`,
            down: `await knex.schema.alterTable(${q(t.name)}, (t) => {
        t.dropUnique([${q(c)}, 'id'], ${q(uq)});
    });`,
        };
    }
    for (let i = 0; i < n; i++) {
        const nch = 2 + pick(2);
        const changes = [];
        for (let c = 0; c < nch; c++) {
            const kind = g.tables.length < 3 ? 0 : pick(10);
            changes.push(kind < 3 ? createTable() : kind < 5 ? addColumn() : kind < 7
                         ? addForeignKey() : kind < 8 ? renameColumn() : kind < 9
                         ? renameTable() : addUnique());
        }
        migs.push(changes);
    }
    return {migs, tables: g.tables.length};
}

function writeWorkload() {
    const sdir = path.join(work, 'strata-migrations');
    const kdir = path.join(work, 'knex-migrations');
    fs.mkdirSync(sdir);
    fs.mkdirSync(kdir);
    const stamp = (i) => String(20240101000000 + i);
    fs.writeFileSync(path.join(sdir, stamp(0) + '_seed_tables.json'),
                     JSON.stringify({up: seedTablesStrata}));
    fs.writeFileSync(path.join(kdir, stamp(0) + '_seed_tables.js'), seedTablesKnex);
    const {migs, tables} = generate(M);
    migs.forEach((changes, i) => {
        const name = stamp(i + 1) + '_step' + i;
        const up = [].concat(...changes.map((c) => c.strata));
        fs.writeFileSync(path.join(sdir, name + '.json'),
                         JSON.stringify({description: 'step ' + i, up}));
        const kup = changes.map((c) => '    ' + c.up).join('\n');
        const kdown = changes.slice().reverse().map((c) => '    ' + c.down).join('\n');
        fs.writeFileSync(path.join(kdir, name + '.js'),
                         `exports.up = async function (knex) {\n${kup}\n};\n` +
                         `exports.down = async function (knex) {\n${kdown}\n};\n`);
    });
    return {sdir, kdir, tables: tables + 4};
}

// The seed rows, deterministic, with quoting, NULLs and UTC times.
const counts = {};
function writeSeed() {
    counts.customer = Math.floor(N / 10);
    counts.product = Math.floor(N / 20);
    counts.orders = Math.floor(N / 4);
    counts.order_line = N - counts.customer - counts.product - counts.orders;
    const two = (x) => String(x).padStart(2, '0');
    const time = (month, i) => {
        const day = i % 28 + 1, sec = i % 86400;
        return `2024-${two(month)}-${two(day)} ${two(Math.floor(sec / 3600))}:` +
               `${two(Math.floor(sec / 60) % 60)}:${two(sec % 60)}`;
    };
    const money = (a, b) => `${a}.${two(b)}`;
    const gens = {
        customer: (i) => ({id: i, email: `user${i}@example.com`,
                           name: `Customer ${i}, "the" ${i % 97}`, created_at: time(2, i),
                           active: i % 5 !== 0}),
        product: (i) => ({id: i, sku: 'SKU-' + String(i).padStart(8, '0'),
                          title: 'Product number ' + i, price: money(i % 500 + 1, i % 100)}),
        orders: (i) => ({id: i, customer_id: (i * 7919) % counts.customer + 1,
                         placed_at: time(3, i), status: i % 3 ? 'completed' : 'pending',
                         total: money(i % 10000, i % 100)}),
        order_line: (i) => ({id: i, order_id: (i * 104729) % counts.orders + 1,
                             product_id: (i * 31) % counts.product + 1, quantity: i % 9 + 1,
                             unit_price: i % 11 === 0 ? null : money(i % 300 + 1, i % 100)}),
    };
    const csvField = (v) => {
        if (v === null)
            return '';
        const s = String(v);
        return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    // seed.json, written a table at a time (the file can be large)
    const fd = fs.openSync(path.join(work, 'seed.json'), 'w');
    fs.writeSync(fd, '{"tables": [\n');
    const order = ['customer', 'product', 'orders', 'order_line'];
    order.forEach((t, ti) => {
        fs.writeSync(fd, `{"table": ${q(t)}, "rows": [\n`);
        const csv = fs.openSync(path.join(work, t + '.csv'), 'w');
        fs.writeSync(csv, Object.keys(gens[t](1)).join(',') + '\n');
        let buf = [], cbuf = [];
        for (let i = 1; i <= counts[t]; i++) {
            const row = gens[t](i);
            buf.push(JSON.stringify(row));
            cbuf.push(Object.values(row).map(csvField).join(','));
            if (buf.length === 5000 || i === counts[t]) {
                fs.writeSync(fd, buf.join(',\n') + (i === counts[t] ? '\n' : ',\n'));
                fs.writeSync(csv, cbuf.join('\n') + '\n');
                buf = [];
                cbuf = [];
            }
        }
        fs.closeSync(csv);
        fs.writeSync(fd, ti === order.length - 1 ? ']}\n' : ']},\n');
    });
    fs.writeSync(fd, ']}\n');
    fs.closeSync(fd);
    fs.writeFileSync(path.join(work, 'seed-csv.json'), JSON.stringify({
        tables: order.map((t) => ({table: t, file: t + '.csv'}))}));
    // the Knex seed: the same JSON, in batchInsert chunks of 1000 rows (500 on SQLite)
    fs.mkdirSync(path.join(work, 'knex-seeds'));
    fs.writeFileSync(path.join(work, 'knex-seeds', 'seed.js'), `
const fs = require('fs');
exports.seed = async function (knex) {
    const doc = JSON.parse(fs.readFileSync(${q(path.join(work, 'seed.json'))}, 'utf8'));
    // SQLite's compound SELECT (Knex's multi-row insert there) takes 500 terms
    const chunk = /sqlite/.test(knex.client.config.client) ? 500 : 1000;
    for (const e of doc.tables)
        await knex.batchInsert(e.table, e.rows, chunk);
};
`);
}

// ---- databases ----

function parseUrl(u) {
    const x = new URL(u);
    return {host: x.hostname, port: parseInt(x.port, 10), user: decodeURIComponent(x.username),
            password: decodeURIComponent(x.password), database: x.pathname.slice(1),
            search: x.search};
}

function freshDb(d, name) {
    if (d === 'sqlite') {
        const file = path.join(work, name + '.db');
        for (const f of [file, file + '-journal', file + '-wal', file + '-strata-lock'])
            fs.rmSync(f, {force: true});
        return {strata: 'sqlite:' + file, knex: {client: 'better-sqlite3',
                connection: {filename: file}, useNullAsDefault: true}, file};
    }
    if (d === 'postgres') {
        const base = process.env.STRATA_TEST_PG_URL;
        execFileSync('psql', ['-X', '-q', '-d', base, '-c', `DROP DATABASE IF EXISTS ${name}`,
                              '-c', `CREATE DATABASE ${name}`], {stdio: 'ignore'});
        const p = parseUrl(base);
        const url = `postgres://${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@` +
                    `${p.host}:${p.port}/${name}${p.search}`;
        return {strata: url, knex: {client: 'pg', connection: url}};
    }
    const base = process.env.STRATA_TEST_MYSQL_URL;
    const p = parseUrl(base);
    execFileSync('mariadb', ['--no-defaults', '-h', p.host, '-P', String(p.port), '-u', p.user,
                             '-p' + p.password, '-e',
                             `DROP DATABASE IF EXISTS ${name}; CREATE DATABASE ${name} ` +
                             'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'], {stdio: 'ignore'});
    return {strata: `mysql://${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@` +
                    `${p.host}:${p.port}/${name}`,
            knex: {client: 'mysql2', connection: {host: p.host, port: p.port, user: p.user,
                                                  password: p.password, database: name,
                                                  charset: 'utf8mb4'}}};
}

function dropDb(d, name) {
    if (d === 'sqlite') {
        const file = path.join(work, name + '.db');
        for (const f of [file, file + '-journal', file + '-wal', file + '-strata-lock'])
            fs.rmSync(f, {force: true});
        return;
    }
    if (d === 'postgres') {
        execFileSync('psql', ['-X', '-q', '-d', process.env.STRATA_TEST_PG_URL, '-c',
                              `DROP DATABASE IF EXISTS ${name}`], {stdio: 'ignore'});
        return;
    }
    const p = parseUrl(process.env.STRATA_TEST_MYSQL_URL);
    execFileSync('mariadb', ['--no-defaults', '-h', p.host, '-P', String(p.port), '-u', p.user,
                             '-p' + p.password, '-e', `DROP DATABASE IF EXISTS ${name}`],
                 {stdio: 'ignore'});
}

// ---- running the tools ----

// Run a command under /usr/bin/time; returns wall, cpu (user + sys)
// seconds and peak memory (MB). A failure ends the benchmark.
function timed(argv, what) {
    const tf = path.join(work, 'time.out');
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', tf].concat(argv),
                        {encoding: 'utf8', maxBuffer: 64 << 20});
    if (r.status !== 0) {
        process.stderr.write(`bench_knex: ${what} failed (status ${r.status}):\n` +
                             `${argv.join(' ')}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}\n`);
        process.exit(1);
    }
    const [wall, user, sys, kb] = fs.readFileSync(tf, 'utf8').trim().split('\n').pop().split(' ')
        .map(Number);
    return {wall, cpu: user + sys, mb: kb / 1024};
}

function knexfile(db, kdir) {
    const file = path.join(process.cwd(), 'knexfile.js');
    fs.writeFileSync(file, 'module.exports = ' + JSON.stringify(Object.assign({}, db.knex, {
        migrations: {directory: kdir, loadExtensions: ['.js']},
        seeds: {directory: path.join(work, 'knex-seeds')},
        pool: {min: 1, max: 1},
    })) + ';\n');
    return file;
}

function knex(db, kdir, cmd) {
    const argv = ['node', KNEX_CLI, '--knexfile', knexfile(db, kdir)].concat(cmd);
    return timed(argv, 'knex ' + cmd.join(' '));
}

function strata(db, sdir, cmd) {
    return timed([STRATA, '--database-url', db.strata, '--migrations-dir', sdir].concat(cmd),
                 'strata ' + cmd.join(' '));
}

// ---- checking ----

// The user schema as a comparable text: per table its columns (name,
// nullable) in order, index names (not the primary key's) and foreign keys
// (columns -> table); tool tables left out.
async function schemaOf(d, db) {
    const Knex = require('knex');
    const k = Knex(Object.assign({}, db.knex, {pool: {min: 1, max: 1}}));
    const out = {};
    const skip = (t) => /^(strata_|knex_|sqlite_)/.test(t);
    try {
        if (d === 'postgres') {
            const cols = await k.raw(`SELECT table_name t, column_name c, is_nullable n FROM
                information_schema.columns WHERE table_schema = current_schema() ORDER BY 1,
                ordinal_position`);
            for (const r of cols.rows)
                if (!skip(r.t))
                    (out[r.t] = out[r.t] || {cols: [], idx: [], fks: []}).cols.push(r.c + ' ' + r.n);
            const idx = await k.raw(`SELECT tablename t, indexname i FROM pg_indexes WHERE
                schemaname = current_schema() AND indexname NOT LIKE '%pkey' ORDER BY 1, 2`);
            for (const r of idx.rows)
                if (!skip(r.t))
                    out[r.t].idx.push(r.i);
            const fks = await k.raw(`SELECT conrelid::regclass::text t, confrelid::regclass::text r,
                conname n FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 3`);
            for (const r of fks.rows)
                if (!skip(r.t))
                    out[r.t].fks.push(r.n + '->' + r.r);
        } else if (d === 'mysql') {
            const [cols] = await k.raw(`SELECT table_name t, column_name c, is_nullable n FROM
                information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1,
                ordinal_position`);
            for (const r of cols)
                if (!skip(r.t))
                    (out[r.t] = out[r.t] || {cols: [], idx: [], fks: []}).cols.push(r.c + ' ' + r.n);
            const [idx] = await k.raw(`SELECT DISTINCT table_name t, index_name i FROM
                information_schema.statistics WHERE table_schema = DATABASE() AND
                index_name <> 'PRIMARY' ORDER BY 1, 2`);
            for (const r of idx)
                if (!skip(r.t))
                    out[r.t].idx.push(r.i);
            const [fks] = await k.raw(`SELECT table_name t, referenced_table_name r,
                constraint_name n FROM information_schema.referential_constraints WHERE
                constraint_schema = DATABASE() ORDER BY 1, 3`);
            for (const r of fks)
                if (!skip(r.t))
                    out[r.t].fks.push(r.n + '->' + r.r);
        } else {
            const tables = await k.raw(`SELECT name FROM sqlite_schema WHERE type = 'table'
                ORDER BY 1`);
            for (const {name} of tables) {
                if (skip(name))
                    continue;
                const e = out[name] = {cols: [], idx: [], fks: []};
                for (const c of await k.raw(`SELECT name, "notnull" FROM pragma_table_info(?)`,
                                            [name]))
                    e.cols.push(c.name + ' ' + (c.notnull ? 'NO' : 'YES'));
                for (const i of await k.raw(`SELECT name FROM pragma_index_list(?) WHERE
                    origin <> 'pk' ORDER BY 1`, [name]))
                    e.idx.push(i.name);
                for (const f of await k.raw(`SELECT DISTINCT "table" FROM
                    pragma_foreign_key_list(?) ORDER BY 1`, [name]))
                    e.fks.push('->' + f.table);
            }
        }
    } finally {
        await k.destroy();
    }
    return out;
}

function compareSchemas(d, a, b) {
    const diffs = [];
    const names = new Set(Object.keys(a).concat(Object.keys(b)));
    for (const t of [...names].sort()) {
        if (!a[t] || !b[t]) {
            diffs.push(`table ${t} only in ${a[t] ? 'strata' : 'knex'}`);
            continue;
        }
        for (const part of ['cols', 'idx', 'fks']) {
            const x = a[t][part].join(', '), y = b[t][part].join(', ');
            if (x !== y)
                diffs.push(`${t} ${part}: strata [${x}] knex [${y}]`);
        }
    }
    return diffs;
}

async function rowCounts(db) {
    const Knex = require('knex');
    const k = Knex(Object.assign({}, db.knex, {pool: {min: 1, max: 1}}));
    const out = {};
    try {
        for (const t of Object.keys(counts)) {
            const [{n}] = await k(t).count('* as n');
            out[t] = Number(n);
        }
    } finally {
        await k.destroy();
    }
    return out;
}

async function checkCounts(db, who) {
    const got = await rowCounts(db);
    for (const t of Object.keys(counts))
        if (got[t] !== counts[t]) {
            console.error(`bench_knex: ${who}: ${got[t]} rows in ${t}, expected ${counts[t]}`);
            process.exit(1);
        }
}

// ---- main ----

const median = (xs) => {
    const s = xs.slice().sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function benchDb(d, wl) {
    // "migrate 1tx" and "revert 1tx": strata with --single-transaction (one
    // commit, as Knex's migrate:latest makes when every migration is
    // transactional), against the same Knex numbers; PostgreSQL and SQLite
    const single = d !== 'mysql';
    const steps = ['migrate'].concat(single ? ['migrate 1tx'] : [], ['seed json', 'revert'],
                                     single ? ['revert 1tx'] : [], ['seed csv']);
    const res = {strata: {}, knex: {}};
    for (const s of steps) {
        res.strata[s] = [];
        res.knex[s] = [];
    }
    let schemaDiffs = null;
    for (let r = 0; r < R; r++) {
        const order = r % 2 ? ['strata', 'knex'] : ['knex', 'strata'];
        for (const tool of order) {
            const name = `bench_knex_${tool}`;
            const db = freshDb(d, name);
            if (tool === 'knex') {
                res.knex.migrate.push(knex(db, wl.kdir, ['migrate:latest']));
                if (r === 0)
                    wl.knexSchema = await schemaOf(d, db);
                const s = knex(db, wl.kdir, ['seed:run']);
                res.knex['seed json'].push(s);
                res.knex['seed csv'].push(s);
                await checkCounts(db, 'knex');
                const rb = knex(db, wl.kdir, ['migrate:rollback', '--all']);
                res.knex.revert.push(rb);
                if (single) {
                    res.knex['migrate 1tx'].push(res.knex.migrate[res.knex.migrate.length - 1]);
                    res.knex['revert 1tx'].push(rb);
                }
            } else {
                res.strata.migrate.push(strata(db, wl.sdir, ['migrations', 'run']));
                if (r === 0)
                    wl.strataSchema = await schemaOf(d, db);
                res.strata['seed json'].push(
                    strata(db, wl.sdir, ['seed', '-f', path.join(work, 'seed.json'),
                                         '--no-migrate']));
                await checkCounts(db, 'strata seed json');
                res.strata.revert.push(strata(db, wl.sdir, ['migrations', 'revert', '--all']));
                // the CSV seed on a database migrated again (in one transaction
                // where the database allows, timed), and reverted so (timed)
                if (single) {
                    res.strata['migrate 1tx'].push(
                        strata(db, wl.sdir, ['migrations', 'run', '--single-transaction']));
                    res.strata['revert 1tx'].push(strata(db, wl.sdir, ['migrations', 'revert',
                                                                       '--all',
                                                                       '--single-transaction']));
                }
                strata(db, wl.sdir, ['migrations', 'run']);
                res.strata['seed csv'].push(
                    strata(db, wl.sdir, ['seed', '-f', path.join(work, 'seed-csv.json'),
                                         '--no-migrate']));
                await checkCounts(db, 'strata seed csv');
            }
            dropDb(d, name);
        }
        if (r === 0)
            schemaDiffs = compareSchemas(d, wl.strataSchema, wl.knexSchema);
    }
    return {steps, res, schemaDiffs};
}

async function main() {
    const t0 = Date.now();
    const wl = writeWorkload();
    writeSeed();
    console.log(`bench_knex: ${M + 1} migrations (${wl.tables} tables), seed ${N} rows ` +
                `(customer ${counts.customer}, product ${counts.product}, orders ` +
                `${counts.orders}, order_line ${counts.order_line}); knex ${KNEX_VERSION}; ` +
                `${R} repetitions, tools alternating; in ${work} ` +
                `(written in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    console.log('ratio = median strata / median knex (wall clock); cpu = the same for ' +
                'user+sys CPU of the child; peak = max RSS');
    console.log(`${'database'.padEnd(9)} ${'step'.padEnd(10)} ${'strata s'.padStart(9)} ` +
                `${'knex s'.padStart(9)} ${'ratio'.padStart(7)} ${'cpu'.padStart(7)} ` +
                `${'strata MB'.padStart(10)} ${'knex MB'.padStart(9)}  target`);
    let failed = 0;
    for (const d of DBS) {
        const {steps, res, schemaDiffs} = await benchDb(d, wl);
        for (const s of steps) {
            const sw = median(res.strata[s].map((x) => x.wall));
            const kw = median(res.knex[s].map((x) => x.wall));
            const sc = median(res.strata[s].map((x) => x.cpu));
            const kc = median(res.knex[s].map((x) => x.cpu));
            const smb = Math.max(...res.strata[s].map((x) => x.mb));
            const kmb = Math.max(...res.knex[s].map((x) => x.mb));
            const ratio = sw / kw;
            const memOk = !s.startsWith('seed json') || smb < 64;
            const ok = ratio <= 0.5 && memOk;
            failed += ok ? 0 : 1;
            console.log(`${d.padEnd(9)} ${s.padEnd(10)} ${sw.toFixed(3).padStart(9)} ` +
                        `${kw.toFixed(3).padStart(9)} ${(ratio.toFixed(2) + 'x').padStart(7)} ` +
                        `${((sc / kc).toFixed(2) + 'x').padStart(7)} ` +
                        `${smb.toFixed(1).padStart(10)} ${kmb.toFixed(1).padStart(9)}  ` +
                        `${ok ? 'met' : 'MISSED'} (<= 0.50x${s.startsWith('seed json') ? ', < 64 MB' : ''})`);
        }
        if (schemaDiffs.length) {
            console.log(`${d}: the schemas differ (${schemaDiffs.length}):`);
            for (const x of schemaDiffs.slice(0, 10))
                console.log('  ' + x);
        } else {
            console.log(`${d}: schemas equal (tables, columns, nullability, indexes, foreign keys)`);
        }
    }
    if (!process.env.STRATA_BENCH_KEEP)
        fs.rmSync(work, {recursive: true, force: true});
    else
        console.log(`kept ${work} (STRATA_BENCH_KEEP)`);
    console.log(`targets: ${failed ? failed + ' missed' : 'all met'}`);
    process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
    console.error('bench_knex:', e);
    process.exit(1);
});
