'use strict';
// The emulator's person (tests/sheets-emulator/src/person) sends exactly what the real script
// sends. Each case makes the same change twice from the same starting sheet: once in the
// stand-in spreadsheet with the real script's trigger, once through the emulator's admin API.
// Both deliveries go to the real webhook router (webhook-recorder), which must accept them,
// and the two bodies must be byte-identical once the per-delivery values (delivery_id,
// sent_at, edited_at, changed_at, and a key the recorder numbered) are masked.
//
// Needs the emulator binary: SHEETS_EMULATOR=path, else this file builds it with cargo.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');
const { FakeSpreadsheet, loadScript, startRecorder } = require('./harness');

const REPOSITORY = path.join(__dirname, '..', '..');
const SECRET = 'person-diff-\u043a\u043b\u044e\u0447';
const SPREADSHEET_ID = 'person-diff';
const TIME_ZONE = 'Europe/Berlin';
const SHEET_ID = 1234;
const EDITOR = 'editor@example.com';
const HEADER = ['id', 'customer', 'total', 'ordered_on', 'paid', 'note'];
const ROWS = [HEADER, [1, 'Ada', 10, '', false, ''], [2, 'Grace', 20, '', true, 'x'], [3, 'Linus', 30, '', false, '']];

let recorder;
let emulator;

function emulatorBinary() {
  if (process.env.SHEETS_EMULATOR) return process.env.SHEETS_EMULATOR;
  const built = spawnSync('cargo', ['build', '-p', 'sheets-emulator', '--bin', 'sheets-emulator', '--quiet'], {
    cwd: REPOSITORY, stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60 * 1000,
  });
  if (built.status !== 0) throw new Error('cargo build -p sheets-emulator failed');
  const target = process.env.CARGO_TARGET_DIR || path.join(REPOSITORY, 'target');
  return path.join(target, 'debug', 'sheets-emulator');
}

function startEmulator(binary, webhookUrl) {
  const secretFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'person-diff-')), 'secret');
  fs.writeFileSync(secretFile, SECRET + '\n');
  const child = spawn(binary, ['--listen', '127.0.0.1:0', '--exit-after-secs', '600',
    '--webhook-url', webhookUrl, '--webhook-secret-file', secretFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('sheets-emulator did not start within 30 s')), 30000);
    child.on('error', reject);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /sheets-emulator listening on (http:\/\/[0-9.:]+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({ base: match[1], stop: () => child.kill() });
    });
  });
}

test.before(async () => {
  recorder = await startRecorder({ secret: SECRET, spreadsheetId: SPREADSHEET_ID, sheets: ['Orders'] });
  emulator = await startEmulator(emulatorBinary(), recorder.url);
});
test.after(() => {
  if (emulator) emulator.stop();
  if (recorder) recorder.stop();
});

async function person(call, body) {
  const response = await fetch(emulator.base + '/_emulator/person/' + call, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  assert.equal(response.status, 200, call + ': ' + JSON.stringify(answer));
  return answer;
}

/** The same starting sheet on both sides: the stand-in with the real script, and the emulator. */
async function bothSides() {
  const spreadsheet = new FakeSpreadsheet(SPREADSHEET_ID, TIME_ZONE);
  const sheet = spreadsheet.addSheet('Orders', SHEET_ID, ROWS);
  const script = loadScript({ spreadsheet });
  script.context.setup(recorder.url, SECRET);
  await person('spreadsheets', {
    spreadsheet_id: SPREADSHEET_ID, time_zone: TIME_ZONE,
    sheets: [{ title: 'Orders', sheet_id: SHEET_ID, rows: ROWS }],
  });
  const common = { spreadsheet_id: SPREADSHEET_ID, sheet: 'Orders' };
  return { spreadsheet, sheet, script, common };
}

function masked(body, key) {
  let text = body.replace(/"(delivery_id|sent_at|edited_at|changed_at)":"[^"]*"/g, '"$1":"…"');
  if (key !== undefined) text = text.split('"id":' + key + '}').join('"id":"<key>"}');
  return text;
}

/** The script's bodies and the emulator's, compared byte for byte; both were accepted. */
function assertSame(script, outcomes, expectedCount, keys = {}) {
  const deliveries = outcomes.flatMap((outcome) => outcome.deliveries);
  const scriptBodies = script.requests.map((request) => masked(request.body, keys.script));
  const emulatorBodies = deliveries.map((delivery) => masked(delivery.request_body, keys.emulator));
  assert.equal(scriptBodies.length, expectedCount, 'the script sent ' + scriptBodies.length);
  assert.deepEqual(emulatorBodies, scriptBodies);
  for (const delivery of deliveries) {
    assert.equal(delivery.status, 200, 'the real router accepted it: ' + delivery.body);
    const expected = 'sha256=' + crypto.createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update(Buffer.from(delivery.timestamp + '.' + delivery.request_body, 'utf8')).digest('hex');
    assert.equal(delivery.signature, expected);
  }
  for (const outcome of outcomes) assert.equal(outcome.queued, 0);
}

test('a typed number: key, new value and the old value', async () => {
  const { sheet, script, common } = await bothSides();
  script.context.onEditInstalled(sheet.edit(2, 3, [[12.5]]));
  const outcome = await person('edit', { ...common, cell: 'C2', value: '12.5', user: EDITOR });
  assertSame(script, [outcome], 1);
});

test('a paste of text, numbers, dates and an emptied cell: no old values', async () => {
  const { sheet, script, common } = await bothSides();
  // 12:00 and 18:00 in Berlin (UTC+1 in winter): serial numbers 46024.5 and 46081.75.
  const noon = new Date(Date.UTC(2026, 0, 2, 11, 0, 0));
  const evening = new Date(Date.UTC(2026, 1, 28, 17, 0, 0));
  script.context.onEditInstalled(sheet.edit(3, 2, [['Grace H.', 21, noon], ['Linus T.', '', evening]]));
  const outcome = await person('edit', {
    ...common, row: 3, column: 2, user: EDITOR,
    values: [['Grace H.', '21', '2026-01-02 12:00'], ['Linus T.', null, '2026-02-28 18:00']],
  });
  assertSame(script, [outcome], 1);
  assert.match(script.requests[0].body, /"ordered_on":46024\.5\}/);
});

test('a cleared cell: null with the old value', async () => {
  const { sheet, script, common } = await bothSides();
  script.context.onEditInstalled(sheet.edit(3, 3, [['']]));
  const outcome = await person('edit', { ...common, cell: 'C3', value: null, user: EDITOR });
  assertSame(script, [outcome], 1);
});

test('a ticked checkbox: Google reports the old value as FALSE', async () => {
  const { spreadsheet, sheet, script, common } = await bothSides();
  sheet.set(2, 5, true);
  // The event as Google makes it for a checkbox (the harness's edit() would say "false").
  script.context.onEditInstalled({
    range: sheet.getRange(2, 5), source: spreadsheet, value: 'TRUE', oldValue: 'FALSE',
    user: { getEmail: () => EDITOR },
  });
  const outcome = await person('edit', { ...common, cell: 'E2', value: true, user: EDITOR });
  assertSame(script, [outcome], 1);
});

test('a new row typed cell by cell: keyless first, then with the key written back', async () => {
  const { sheet, script, common } = await bothSides();
  script.context.onEditInstalled(sheet.edit(5, 2, [['Margaret']]));
  const scriptKey = sheet.get(5, 1);
  script.context.onEditInstalled(sheet.edit(5, 3, [[99]]));
  const outcome = await person('add-row', { ...common, values: { customer: 'Margaret', total: '99' }, user: EDITOR });
  assert.equal(outcome.keys_written.length, 1);
  const emulatorKey = outcome.keys_written[0].value;
  assert.ok(Number.isInteger(scriptKey) && Number.isInteger(emulatorKey), `keys ${scriptKey}, ${emulatorKey}`);
  assertSame(script, [outcome], 2, { script: scriptKey, emulator: emulatorKey });
  assert.match(masked(script.requests[1].body, scriptKey), /"key":\{"id":"<key>"\}/);
});

test('a new row that moved up before its key came back gets the key where it is now', async () => {
  // The first delivery fails; the person deletes a row above before the queue is sent again.
  const { spreadsheet, sheet, script, common } = await bothSides();
  await recorder.makeUnavailable(1);
  script.context.onEditInstalled(sheet.edit(5, 2, [['Margaret']]));
  sheet.cells.splice(2, 1);
  script.context.onChangeInstalled({ changeType: 'REMOVE_ROW', source: spreadsheet });
  assert.equal(sheet.get(4, 2), 'Margaret');
  const scriptKey = sheet.get(4, 1);
  assert.ok(Number.isInteger(scriptKey), `the script wrote ${scriptKey} into row 4`);
  assert.equal(sheet.get(5, 1), '', 'nothing written where the row was');

  await recorder.makeUnavailable(1);
  const typed = await person('add-row', { ...common, values: { customer: 'Margaret' }, user: EDITOR });
  assert.equal(typed.queued, 1);
  const deleted = await person('delete-rows', { ...common, row: 3 });
  assert.equal(deleted.keys_written.length, 1);
  assert.equal(deleted.keys_written[0].row, 4);
  const deliveries = [typed, deleted].flatMap((outcome) => outcome.deliveries);
  assert.deepEqual(deliveries.map((delivery) => delivery.status), [503, 200, 200]);
  assert.deepEqual(deliveries.map((delivery) => masked(delivery.request_body)),
    script.requests.map((request) => masked(request.body)));
});

test('a header edit is flagged; an edit right of the header is sent by neither', async () => {
  const { sheet, script, common } = await bothSides();
  script.context.onEditInstalled(sheet.edit(1, 2, [['client']]));
  script.context.onEditInstalled(sheet.edit(2, 8, [['scribble']]));
  const header = await person('edit', { ...common, cell: 'B1', value: 'client', user: EDITOR });
  const outside = await person('edit', { ...common, cell: 'H2', value: 'scribble', user: EDITOR });
  assert.deepEqual(outside.deliveries, []);
  assertSame(script, [header, outside], 1);
});

test('a deleted row: REMOVE_ROW with the remaining keys', async () => {
  const { spreadsheet, sheet, script, common } = await bothSides();
  sheet.cells.splice(2, 1);
  script.context.onChangeInstalled({ changeType: 'REMOVE_ROW', source: spreadsheet });
  const outcome = await person('delete-rows', { ...common, row: 3 });
  assertSame(script, [outcome], 1);
});

test('inserted rows: INSERT_ROW with empty keys where they are', async () => {
  const { spreadsheet, sheet, script, common } = await bothSides();
  sheet.cells.splice(2, 0, HEADER.map(() => ''), HEADER.map(() => ''));
  script.context.onChangeInstalled({ changeType: 'INSERT_ROW', source: spreadsheet });
  const outcome = await person('insert-rows', { ...common, row: 3, count: 2 });
  assertSame(script, [outcome], 1);
});

test('a sort: OTHER with the keys in their new order', async () => {
  const { spreadsheet, sheet, script, common } = await bothSides();
  const data = sheet.cells.slice(1).sort((a, b) => String(b[1]).localeCompare(String(a[1])));
  sheet.cells.splice(1, data.length, ...data);
  script.context.onChangeInstalled({ changeType: 'OTHER', source: spreadsheet });
  const outcome = await person('sort', { ...common, column: 'customer', descending: true });
  assertSame(script, [outcome], 1);
  assert.match(script.requests[0].body, /"keys":\[\[3\],\[2\],\[1\]\]/);
});
