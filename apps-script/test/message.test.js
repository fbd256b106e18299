'use strict';
// The message format is defined once (docs/webhook-protocol.md); this pins the script's output
// for a fixture edit to a committed JSON file. Needs no server.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { FakeSpreadsheet, loadScript } = require('./harness');

const SECRET = 'fixture-secret';
const HEADER = ['id', 'customer', 'total', 'ordered_on', 'paid', 'note'];

test('the message for a fixture edit equals the committed expected JSON', () => {
  const spreadsheet = new FakeSpreadsheet('spreadsheet-1', 'America/New_York');
  const sheet = spreadsheet.addSheet('Orders', 1234, [HEADER, [7, 'Ada', 10, '', true, ''], [8, 'Grace', 20, '', false, 'x']]);
  const script = loadScript({ spreadsheet, now: () => new Date('2026-03-01T09:30:00.250Z'), uuids: ['0f8fad5b-d9cb-469f-a165-70867728950e'] });
  script.context.setup('https://sheetsync.example.com/webhook', SECRET);
  // 2026-02-28 17:00 UTC is 12:00 in New York: serial 46081.5.
  const event = sheet.edit(2, 3, [[12.5, new Date(Date.UTC(2026, 1, 28, 17)), false], [21, '', true]]);
  const messages = script.context.buildEditMessages_(event, script.context.readSettings_());
  const actual = JSON.parse(JSON.stringify(messages));
  const expected = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'edit-message.json'), 'utf8'));
  assert.deepEqual(actual, [expected]);
});

test('the signature is lowercase hex of HMAC-SHA256 over "<timestamp>.<body>" from signed bytes', () => {
  const script = loadScript({ spreadsheet: new FakeSpreadsheet('s', 'UTC') });
  // Published vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
  const signature = script.context.signature_('key', 'The quick brown fox jumps over the lazy dog', '').replace(/\.$/, '');
  assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  const crypto = require('node:crypto');
  const expected = crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog.').digest('hex');
  assert.equal(signature, 'sha256=' + expected);
});

test('cells: empty is null, dates are serial numbers in the spreadsheet zone, numbers and booleans stay typed', () => {
  const script = loadScript({ spreadsheet: new FakeSpreadsheet('s', 'UTC') });
  const cell = script.context.cellValue_;
  assert.equal(cell('', 'UTC'), null);
  assert.equal(cell(0, 'UTC'), 0);
  assert.equal(cell(false, 'UTC'), false);
  assert.equal(cell('=1+2', 'UTC'), '=1+2');
  assert.equal(cell(new Date(Date.UTC(1899, 11, 30)), 'UTC'), 0);
  assert.equal(cell(new Date(Date.UTC(1900, 0, 1, 12)), 'UTC'), 2.5);
  assert.equal(cell(new Date(Date.UTC(2026, 0, 1, 23)), 'Europe/Berlin'), 46024);
});

test('a paste over 500 rows is split into messages of at most 500 rows', () => {
  const spreadsheet = new FakeSpreadsheet('s', 'UTC');
  const rows = [['id', 'v']];
  for (let id = 1; id <= 1201; id++) rows.push([id, 0]);
  const sheet = spreadsheet.addSheet('T', 0, rows);
  const script = loadScript({ spreadsheet });
  script.context.setup('https://example.com/webhook', SECRET);
  const block = Array.from({ length: 1201 }, (_, index) => [index]);
  const messages = script.context.buildEditMessages_(sheet.edit(2, 2, block), script.context.readSettings_());
  assert.deepEqual(Array.from(messages, (message) => message.rows.length), [500, 500, 201]);
  assert.equal(new Set(messages.map((message) => message.delivery_id)).size, 3);
});
