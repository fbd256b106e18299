'use strict';
// Failures, retries and setup: what is kept, what is dropped, and that nothing is applied twice.

const test = require('node:test');
const assert = require('node:assert/strict');
const { FakeSpreadsheet, loadScript, startRecorder } = require('./harness');

const SECRET = 'delivery-secret';
const HEADER = ['id', 'customer', 'total'];

let recorder;
test.before(async () => {
  recorder = await startRecorder({ secret: SECRET, spreadsheetId: 'spreadsheet-2', sheets: ['Orders'] });
});
test.after(() => recorder.stop());

function setUp(url) {
  const spreadsheet = new FakeSpreadsheet('spreadsheet-2', 'UTC');
  const sheet = spreadsheet.addSheet('Orders', 0, [HEADER, [1, 'Ada', 10], [2, 'Grace', 20]]);
  const scratch = spreadsheet.addSheet('Scratch', 5, [HEADER, [1, 'x', 1]]);
  // The recorder checks timestamps against the real clock; the script's clock runs ahead on demand.
  let offsetMilliseconds = 0;
  const script = loadScript({ spreadsheet, now: () => new Date(Date.now() + offsetMilliseconds) });
  script.context.setup(url || recorder.url, SECRET);
  return { sheet, scratch, script, advance: (seconds) => { offsetMilliseconds += seconds * 1000; } };
}

async function recordedIds() {
  return (await recorder.recorded()).map((entry) => entry.message.delivery_id);
}

test('a 503 is queued and retried by the one-minute trigger with the same delivery_id', async () => {
  const { sheet, script, advance } = setUp();
  await recorder.makeUnavailable(1);
  script.context.onEditInstalled(sheet.edit(2, 2, [['Ada L.']]));
  assert.equal(script.context.queuedDeliveryCount(), 1, 'kept for retry');
  advance(60);
  script.context.retryQueuedDeliveries();
  assert.equal(script.context.queuedDeliveryCount(), 0);
  assert.equal(script.requests.length, 2);
  const [first, retry] = script.requests.map((request) => request);
  assert.equal(retry.body, first.body, 'same body, same delivery_id');
  assert.notEqual(retry.headers['X-Sheetsync-Timestamp'], first.headers['X-Sheetsync-Timestamp'], 're-signed');
  const id = JSON.parse(first.body).delivery_id;
  assert.equal((await recordedIds()).filter((recorded) => recorded === id).length, 1);
});

test('network failures keep every delivery, in order, until the service is back', async () => {
  const { sheet, script, advance } = setUp('http://127.0.0.1:1/webhook');
  script.context.onEditInstalled(sheet.edit(2, 3, [[11]]));
  advance(1);
  script.context.onEditInstalled(sheet.edit(2, 3, [[12]]));
  assert.equal(script.context.queuedDeliveryCount(), 2);
  // Each flush tried the oldest delivery again; the second never overtook it.
  const attempts = script.requests.length;
  assert.equal(attempts, 2);
  assert.equal(script.requests[1].body, script.requests[0].body);
  script.context.setup(recorder.url);
  script.context.retryQueuedDeliveries();
  assert.equal(script.context.queuedDeliveryCount(), 0);
  const sent = script.requests.slice(attempts).map((request) => JSON.parse(request.body));
  assert.deepEqual(sent.map((message) => message.rows[0].values.total), [11, 12]);
  const recorded = await recordedIds();
  assert.ok(recorded.indexOf(sent[0].delivery_id) < recorded.indexOf(sent[1].delivery_id));
});

test('a 4xx is logged and not retried', async () => {
  const { scratch, script } = setUp();
  script.context.onEditInstalled(scratch.edit(2, 2, [['y']]));
  assert.equal(script.context.queuedDeliveryCount(), 0);
  script.context.retryQueuedDeliveries();
  assert.equal(script.requests.length, 1);
  const warning = script.logs.find((log) => log.level === 'warn');
  assert.match(warning.text, /refused, not retried \(HTTP 422: .*unknown tab \\"Scratch\\"/);
});

test('a delivery sent twice (answer lost) is applied once and answered alike', async () => {
  const { sheet, script } = setUp();
  const [message] = script.context.buildEditMessages_(sheet.edit(3, 2, [['G. Hopper']]), script.context.readSettings_());
  const body = JSON.stringify(message);
  const first = script.context.post_(script.context.readSettings_(), body);
  const second = script.context.post_(script.context.readSettings_(), body);
  assert.equal(first.status, 200);
  assert.deepEqual(JSON.parse(second.text), JSON.parse(first.text));
  assert.equal((await recordedIds()).filter((id) => id === message.delivery_id).length, 1);
});

test('a key snapshot too big for the queue is sent directly', async () => {
  const { script } = setUp();
  const sheet = script.spreadsheet.getSheetByName('Orders');
  for (let row = 4; row <= 20001; row++) sheet.set(row, 1, 100000 + row);
  script.context.onChangeInstalled({ changeType: 'REMOVE_ROW', source: script.spreadsheet });
  assert.equal(script.context.queuedDeliveryCount(), 0);
  assert.equal(script.requests.length, 1);
  assert.ok(script.requests[0].body.length > 100000);
  const id = JSON.parse(script.requests[0].body).delivery_id;
  const [entry] = (await recorder.recorded()).filter((recorded) => recorded.message.delivery_id === id);
  assert.equal(entry.message.keys.length, 20000);
  assert.match(script.logs.find((log) => log.level === 'warn').text, /not kept for retry/);
});

test('setup() twice installs each trigger once', () => {
  const { script } = setUp();
  assert.deepEqual(Array.from(script.context.setup()), [], 'second run creates nothing');
  const installed = script.triggers.map((trigger) => [trigger.getHandlerFunction(), trigger.getEventType()]).sort();
  assert.deepEqual(installed, [['onChangeInstalled', 'ON_CHANGE'], ['onEditInstalled', 'ON_EDIT'], ['retryQueuedDeliveries', 'CLOCK']]);
  assert.equal(script.properties.get('WEBHOOK_SECRET'), SECRET);
  assert.equal(script.properties.get('KEY_COLUMNS'), 'id');
  assert.throws(() => script.context.setup('http://example.com/webhook'), /must be an https:\/\/ URL/);
});
