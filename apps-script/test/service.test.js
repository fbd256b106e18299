'use strict';
// The real script against the real service: `sheetsync run` with MariaDB and the Sheets
// emulator (examples/apps-script-bed.rs, started once). Each case makes a person's change in
// the stand-in spreadsheet and the emulator, runs the script's own trigger function, and checks
// the database (and, for a refused value, the cell and its note).
//
// The bed seeds `orders` with ids 1..30 (customer "customer N", city "city N", qty N,
// total N.50, status "new"); the initial load puts them on the tab "Orders".

const test = require('node:test');
const assert = require('node:assert/strict');
const { FakeSpreadsheet, loadScript } = require('./harness');
const { startServiceBed, waitFor } = require('./service-bed');

const HEADER = ['id', 'customer', 'city', 'qty', 'total', 'status'];
const SEEDED = 30;

let bed;
test.before(async () => {
  bed = await startServiceBed();
  // The initial load writes the header and the 30 rows.
  await waitFor('the initial load on the tab', async () => (await bed.emulatorSheet()).values.length === SEEDED + 1, 60000);
  // The webhook starts before the initial load ends; a removed row is deleted only once the
  // service has seen its key in the tab (src/apply/seed.rs reads the tab until it is loaded).
  await waitFor('the known keys seeded from the tab', async () => /known keys seeded from the tab/.test(await bed.log()), 90000);
});
test.after(() => bed && bed.stop());

/** A fresh script (empty queue) on a stand-in holding what the emulator holds now. */
async function setUp() {
  const { sheetId } = await bed.emulatorSheet();
  const spreadsheet = new FakeSpreadsheet(bed.spreadsheet_id, 'UTC');
  const sheet = spreadsheet.addSheet(bed.sheet, sheetId, []);
  await bed.pull(sheet);
  assert.deepEqual(sheet.cells[0], HEADER, 'the tab has the table header');
  const script = loadScript({ spreadsheet });
  script.context.setup(bed.webhook_url, bed.secret);
  return { spreadsheet, sheet, script };
}

/** The sheet row holding key `id` (1-based), from the stand-in. */
function rowOf(sheet, id) {
  const index = sheet.cells.findIndex((cells, position) => position > 0 && cells[0] === id);
  assert.ok(index > 0, `id ${id} is on the tab`);
  return index + 1;
}

async function order(id) {
  const rows = await bed.sql(`SELECT id, customer, city, qty, total, status FROM ${bed.table} WHERE id = ${Number(id)}`);
  return rows[0] || null;
}

async function scalar(sql) {
  return (await bed.sql(sql))[0][0];
}

/** Context for a failing assertion: the script's log and the end of the service's log. */
async function diagnostics(script) {
  return `\nscript log: ${JSON.stringify(script.logs)}\nservice log tail:\n${(await bed.log()).slice(-3000)}`;
}

test('a single edit reaches the row in MySQL', async () => {
  const { sheet, script } = await setUp();
  const row = rowOf(sheet, 3);
  await bed.type(script, sheet, row, 3, [['Paris']]);
  assert.equal(script.context.queuedDeliveryCount(), 0, await diagnostics(script));
  assert.deepEqual(await order(3), ['3', 'customer 3', 'Paris', '3', '3.50', 'new'], await diagnostics(script));
  assert.equal(script.requests.length, 1);
});

test('a pasted 20x5 block updates 100 cells in MySQL, nothing else', async () => {
  const { sheet, script } = await setUp();
  const first = rowOf(sheet, 4);
  const ids = Array.from({ length: 20 }, (_, offset) => sheet.get(first + offset, 1));
  const block = ids.map((id) => [`pasted ${id}`, `town ${id}`, id * 10, id + 0.25, 'paid']);
  await bed.type(script, sheet, first, 2, block);
  assert.equal(script.context.queuedDeliveryCount(), 0, await diagnostics(script));
  assert.equal(script.requests.length, 1, 'one message for the paste');
  const list = ids.join(', ');
  const rows = await bed.sql(`SELECT id, customer, city, qty, total, status FROM ${bed.table} WHERE id IN (${list}) ORDER BY id`);
  const expected = ids.slice().sort((a, b) => a - b)
    .map((id) => [String(id), `pasted ${id}`, `town ${id}`, String(id * 10), (id + 0.25).toFixed(2), 'paid']);
  assert.deepEqual(rows, expected, await diagnostics(script));
  const untouched = await bed.sql(`SELECT COUNT(*) FROM ${bed.table} WHERE customer LIKE 'pasted %' AND id NOT IN (${list})`);
  assert.equal(untouched[0][0], '0');
});

test('a new row typed cell by cell is inserted exactly once and its key written back', async () => {
  const { sheet, script } = await setUp();
  const countBefore = Number(await scalar(`SELECT COUNT(*) FROM ${bed.table}`));
  const nextIdBefore = Number(await scalar(
    `SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${bed.database}' AND TABLE_NAME = 'orders'`));
  const row = sheet.getLastRow() + 1;
  await bed.type(script, sheet, row, 2, [['Margaret']]);
  const key = sheet.get(row, 1);
  assert.ok(Number.isInteger(key), `a key was written into A${row}: ${JSON.stringify(key)}` + await diagnostics(script));
  await bed.type(script, sheet, row, 3, [['London']]);
  await bed.type(script, sheet, row, 4, [[7]]);
  assert.equal(script.context.queuedDeliveryCount(), 0, await diagnostics(script));
  const bodies = script.requests.map((request) => JSON.parse(request.body));
  assert.deepEqual(bodies.map((body) => body.rows[0].key.id), [null, key, key], 'only the first edit is keyless');
  assert.deepEqual(await order(key), [String(key), 'Margaret', 'London', '7', null, null]);
  assert.equal(Number(await scalar(`SELECT COUNT(*) FROM ${bed.table}`)), countBefore + 1, 'one row more');
  const nextIdAfter = Number(await scalar(
    `SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${bed.database}' AND TABLE_NAME = 'orders'`));
  assert.equal(nextIdAfter, nextIdBefore + 1, 'exactly one INSERT took an id');
  assert.equal(key, nextIdBefore);
  // Google's copy got the key too (the script wrote it into the sheet).
  const { values } = await bed.emulatorSheet();
  assert.equal(values[row - 1][0], key);
});

test('a deleted row is deleted in MySQL, the other rows stay', async () => {
  const { sheet, script } = await setUp();
  const countBefore = Number(await scalar(`SELECT COUNT(*) FROM ${bed.table}`));
  // A row nobody edited since the service started: known only from the initial load.
  const row = rowOf(sheet, 27);
  await bed.deleteRow(script, sheet, row);
  assert.equal(script.context.queuedDeliveryCount(), 0, await diagnostics(script));
  assert.equal(JSON.parse(script.requests[0].body).change_type, 'REMOVE_ROW');
  assert.equal(await order(27), null, 'id 27 is gone' + await diagnostics(script));
  assert.equal(Number(await scalar(`SELECT COUNT(*) FROM ${bed.table}`)), countBefore - 1, 'only that row');
  assert.notEqual(await order(28), null);
});

test('a delivery the service cannot apply (503) is kept and applied by the retry trigger', async () => {
  const { sheet, script } = await setUp();
  const row = rowOf(sheet, 2);
  await bed.sql('SET GLOBAL read_only = 1');
  try {
    await bed.type(script, sheet, row, 3, [['Retry town']]);
    assert.equal(script.context.queuedDeliveryCount(), 1, 'kept for retry' + await diagnostics(script));
    assert.match(script.logs.map((log) => log.text).join('\n'), /kept for retry \(HTTP 503/);
    assert.equal((await order(2))[2], 'city 2', 'nothing applied while MySQL is read-only');
  } finally {
    await bed.sql('SET GLOBAL read_only = 0');
  }
  script.context.retryQueuedDeliveries();
  assert.equal(script.context.queuedDeliveryCount(), 0, await diagnostics(script));
  assert.equal((await order(2))[2], 'Retry town');
  const [first, retry] = script.requests;
  assert.equal(script.requests.length, 2);
  assert.equal(retry.body, first.body, 'the same delivery, same delivery_id');
});

test('a refused value is set back and shown with a note', async () => {
  const { sheet, script } = await setUp();
  const row = rowOf(sheet, 1);
  await bed.type(script, sheet, row, 4, [['abc']]);
  assert.equal(script.context.queuedDeliveryCount(), 0, 'a refusal is not retried' + await diagnostics(script));
  const warnings = script.logs.filter((log) => log.level !== 'log');
  assert.deepEqual(warnings, [], 'the delivery was answered 200 (a 4xx or a lost delivery is logged)');
  assert.deepEqual(await order(1), ['1', 'customer 1', 'city 1', '1', '1.50', 'new'], 'MySQL unchanged');
  // The service writes the database's value back with the reason as a note; the person sees it.
  await waitFor('the note on the refused cell', async () => {
    await bed.pull(sheet);
    return sheet.getRange(row, 4).getNote() !== '';
  });
  assert.match(sheet.getRange(row, 4).getNote(), /abc/);
  assert.equal(sheet.getRange(row, 4).getValue(), 1, 'set back to the database value');
  assert.equal(sheet.getRange(row, 3).getNote(), '', 'no note on the other cells');
});
