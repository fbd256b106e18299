'use strict';
// Edits typed and pasted into a sheet reach the real webhook router as the protocol says.

const test = require('node:test');
const assert = require('node:assert/strict');
const { FakeSpreadsheet, loadScript, startRecorder } = require('./harness');

const SECRET = 's3cr3t-\u043a\u043b\u044e\u0447'; // non-ASCII: the key must be UTF-8 on both sides
const HEADER = ['id', 'customer', 'total', 'ordered_on', 'paid', 'note'];

let recorder;
test.before(async () => {
  recorder = await startRecorder({ secret: SECRET, spreadsheetId: 'spreadsheet-1', sheets: ['Orders'], columns: HEADER });
});
test.after(() => recorder.stop());

function ordersSheet(dataRows = 2) {
  const spreadsheet = new FakeSpreadsheet('spreadsheet-1', 'Europe/Berlin');
  const rows = [HEADER];
  for (let id = 1; id <= dataRows; id++) rows.push([id, 'customer ' + id, id * 10, '', false, '']);
  const sheet = spreadsheet.addSheet('Orders', 0, rows);
  const script = loadScript({ spreadsheet });
  script.context.setup(recorder.url, SECRET);
  return { spreadsheet, sheet, script };
}

async function recordedFor(deliveryIds) {
  const recorded = await recorder.recorded();
  return recorded.filter((entry) => deliveryIds.includes(entry.message.delivery_id));
}

function deliveryIds(script) {
  return script.requests.map((request) => JSON.parse(request.body).delivery_id);
}

test('a single-cell edit is sent with its key and old value', async () => {
  const { sheet, script } = ordersSheet();
  script.context.onEditInstalled(sheet.edit(2, 3, [[12.5]]));
  assert.equal(script.requests.length, 1);
  assert.match(script.requests[0].headers['X-Sheetsync-Signature'], /^sha256=[0-9a-f]{64}$/);
  const [entry] = await recordedFor(deliveryIds(script));
  assert.equal(entry.mapping, 'orders');
  assert.equal(entry.message.user, 'editor@example.com');
  assert.deepEqual(entry.message.header, HEADER);
  assert.deepEqual(entry.message.rows, [{ row: 2, key: { id: 1 }, values: { total: 12.5 }, old_values: { total: '10' } }]);
  assert.equal(script.context.queuedDeliveryCount(), 0);
});

test('a 20x5 paste is one message with 20 rows, dates as serial numbers', async () => {
  const { sheet, script } = ordersSheet(20);
  // 2026-01-02 11:00 UTC is 12:00 in Berlin, the spreadsheet's zone: serial 46024.5.
  const orderedOn = new Date(Date.UTC(2026, 0, 2, 11, 0, 0));
  const block = Array.from({ length: 20 }, (_, index) => ['pasted ' + index, index + 0.25, orderedOn, index % 2 === 0, index === 3 ? '' : 'n' + index]);
  script.context.onEditInstalled(sheet.edit(2, 2, block));
  assert.equal(script.requests.length, 1);
  const [entry] = await recordedFor(deliveryIds(script));
  const rows = entry.message.rows;
  assert.equal(rows.length, 20);
  assert.deepEqual(rows[0], { row: 2, key: { id: 1 }, values: { customer: 'pasted 0', total: 0.25, ordered_on: 46024.5, paid: true, note: 'n0' } });
  assert.deepEqual(rows[3].values.note, null, 'an emptied cell is null');
  assert.equal(rows[19].row, 21);
  assert.ok(rows.every((row) => !('old_values' in row)), 'no old values for a multi-cell edit');
});

test('a new row typed cell by cell is sent keyless, then gets the key the service returns', async () => {
  const { sheet, script } = ordersSheet(2);
  script.context.onEditInstalled(sheet.edit(4, 2, [['Linus']]));
  const [first] = await recordedFor(deliveryIds(script));
  assert.deepEqual(first.message.rows, [{ row: 4, key: { id: null }, values: { customer: 'Linus' }, old_values: { customer: '' } }]);
  const key = sheet.get(4, 1);
  assert.ok(Number.isInteger(key) && key > 1000, `key cell holds ${key}`);

  script.context.onEditInstalled(sheet.edit(4, 3, [[99]]));
  const second = (await recordedFor(deliveryIds(script)))[1];
  assert.deepEqual(second.message.rows, [{ row: 4, key: { id: key }, values: { total: 99 }, old_values: { total: '' } }]);
});

test('a key is written once even when a second typed row holds the cell a late answer names', () => {
  // A new row typed cell by cell (customer, then total) at row 4; both deliveries wait in the
  // queue. Before they go, the person deletes row 2 (the typed row moves up to 3) and types
  // another row at 4 with the same total. Both answers carry the same key (the service inserts
  // the row once): the first is written where the row moved, the second must not take row 4.
  const { sheet, script } = ordersSheet(2);
  sheet.cells.splice(1, 1);
  sheet.set(3, 2, 'Margaret');
  sheet.set(3, 3, 99);
  sheet.set(4, 2, 'Other');
  sheet.set(4, 3, 99);
  const answer = { results: [{ row: 4, status: 'inserted', key: { id: 5001 } }] };
  const typed = (values) => ({ kind: 'edit', sheet_id: 0, rows: [{ row: 4, key: { id: null }, values }] });
  script.context.writeInsertedKeys_(typed({ customer: 'Margaret' }), answer);
  assert.equal(sheet.get(3, 1), 5001, 'written where the typed row moved');
  script.context.writeInsertedKeys_(typed({ total: 99 }), answer);
  assert.equal(sheet.get(4, 1), '', 'the other typed row keeps an empty key');
  const keys = sheet.cells.slice(1).map((row) => row[0]).filter((key) => key === 5001);
  assert.equal(keys.length, 1, 'the key once');
});

test('a header edit is reported, edits right of the header are not sent', async () => {
  const { sheet, script } = ordersSheet();
  script.context.onEditInstalled(sheet.edit(1, 3, [['amount']]));
  script.context.onEditInstalled(sheet.edit(2, 9, [['scribble']]));
  assert.equal(script.requests.length, 1, 'only the header edit is sent');
  const [entry] = await recordedFor(deliveryIds(script));
  assert.equal(entry.message.header_edited, true);
  assert.deepEqual(entry.message.rows, []);
});

test('a row insert sends the key column snapshot; a format change sends nothing', async () => {
  const { spreadsheet, sheet, script } = ordersSheet(3);
  sheet.cells.splice(2, 0, ['', '', '', '', '', '']);
  script.context.onChangeInstalled({ changeType: 'FORMAT', source: spreadsheet });
  script.context.onChangeInstalled({ changeType: 'INSERT_ROW', source: spreadsheet });
  assert.equal(script.requests.length, 1);
  const [entry] = await recordedFor(deliveryIds(script));
  assert.equal(entry.message.kind, 'structure');
  assert.equal(entry.message.change_type, 'INSERT_ROW');
  assert.deepEqual(entry.message.key_columns, ['id']);
  assert.deepEqual(entry.message.keys, [[1], [null], [2], [3]]);
});
