'use strict';
// Runs the real Apps Script files in a `vm` context with small stand-ins for Google's services,
// and starts the real webhook router (examples/webhook-recorder.rs) for them to talk to.
// UrlFetchApp really crosses the wire: a synchronous child process makes the HTTP request.

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');

const SCRIPT_DIRECTORY = path.join(__dirname, '..');
const SCRIPT_FILES = ['Settings.js', 'Message.js', 'Delivery.js', 'Triggers.js'];
const REPOSITORY = path.join(SCRIPT_DIRECTORY, '..');
const RECORDER = process.env.WEBHOOK_RECORDER ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(REPOSITORY, 'target'), 'debug', 'examples', 'webhook-recorder');

/** A tab: a growable grid of values, 1-based like Sheets. */
class FakeSheet {
  constructor(spreadsheet, name, sheetId, rows) {
    this.spreadsheet = spreadsheet;
    this.name = name;
    this.sheetId = sheetId;
    this.cells = rows.map((row) => row.slice());
    /** Cell notes by "row,column" (1-based), as Sheets shows them on hover. */
    this.notes = new Map();
  }
  getName() { return this.name; }
  getSheetId() { return this.sheetId; }
  getParent() { return this.spreadsheet; }
  getLastRow() {
    for (let row = this.cells.length; row >= 1; row--) {
      if (this.cells[row - 1].some((value) => value !== '')) return row;
    }
    return 0;
  }
  getLastColumn() {
    let last = 0;
    this.cells.forEach((row) => row.forEach((value, index) => { if (value !== '') last = Math.max(last, index + 1); }));
    return last;
  }
  getRange(row, column, rowCount = 1, columnCount = 1) {
    if (row < 1 || column < 1 || rowCount < 1 || columnCount < 1) throw new Error('Exception: The coordinates of the range are outside the dimensions of the sheet.');
    return new FakeRange(this, row, column, rowCount, columnCount);
  }
  get(row, column) { return (this.cells[row - 1] || [])[column - 1] ?? ''; }
  set(row, column, value) {
    while (this.cells.length < row) this.cells.push([]);
    const cells = this.cells[row - 1];
    while (cells.length < column) cells.push('');
    cells[column - 1] = value;
  }
  /** What a person does: set values, then the trigger gets the event for that rectangle. */
  edit(row, column, values) {
    const oldValue = this.get(row, column);
    values.forEach((cells, rowOffset) => cells.forEach((value, columnOffset) => this.set(row + rowOffset, column + columnOffset, value)));
    const range = this.getRange(row, column, values.length, values[0].length);
    const event = { range, source: this.spreadsheet, authMode: 'FULL', triggerUid: '1', user: { getEmail: () => 'editor@example.com' } };
    if (values.length === 1 && values[0].length === 1) {
      event.value = values[0][0];
      if (oldValue !== '') event.oldValue = String(oldValue); // Apps Script leaves it out for an empty cell
    }
    return event;
  }
}

class FakeRange {
  constructor(sheet, row, column, rowCount, columnCount) {
    Object.assign(this, { sheet, row, column, rowCount, columnCount });
  }
  getSheet() { return this.sheet; }
  getRow() { return this.row; }
  getColumn() { return this.column; }
  getNumRows() { return this.rowCount; }
  getNumColumns() { return this.columnCount; }
  getValues() {
    return Array.from({ length: this.rowCount }, (_, r) =>
      Array.from({ length: this.columnCount }, (_, c) => this.sheet.get(this.row + r, this.column + c)));
  }
  getValue() { return this.sheet.get(this.row, this.column); }
  getNote() { return this.sheet.notes.get(this.row + ',' + this.column) || ''; }
  setValue(value) { this.sheet.set(this.row, this.column, value); this.sheet.spreadsheet.writes.push([this.row, this.column, value]); return this; }
  setValues(values) {
    values.forEach((cells, r) => cells.forEach((value, c) => this.sheet.set(this.row + r, this.column + c, value)));
    return this;
  }
}

class FakeSpreadsheet {
  constructor(id, timeZone) {
    this.id = id;
    this.timeZone = timeZone;
    this.sheets = [];
    this.active = null;
    this.writes = [];
  }
  addSheet(name, sheetId, rows) {
    const sheet = new FakeSheet(this, name, sheetId, rows);
    this.sheets.push(sheet);
    this.active = this.active || sheet;
    return sheet;
  }
  getId() { return this.id; }
  getSheets() { return this.sheets.slice(); }
  getSheetByName(name) { return this.sheets.find((sheet) => sheet.name === name) || null; }
  getActiveSheet() { return this.active; }
  getSpreadsheetTimeZone() { return this.timeZone; }
}

/** Signed bytes (-128..127), as Apps Script returns them. */
function signedBytes(buffer) {
  return Array.from(buffer, (byte) => (byte > 127 ? byte - 256 : byte));
}

/** `Utilities.formatDate` for the one pattern the script uses. */
function formatDate(date, timeZone, pattern) {
  if (pattern !== "yyyy-MM-dd'T'HH:mm:ss.SSS") throw new Error('stand-in formatDate: unsupported pattern ' + pattern);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((part) => [part.type, part.value]));
  const milliseconds = String(date.getTime() % 1000).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${milliseconds}`;
}

// The child process that makes one HTTP request and prints the answer as JSON.
const FETCH_CHILD = `
const http = require('node:http');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const body = Buffer.from(request.body, 'base64');
  const url = new URL(request.url);
  const outgoing = http.request({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST',
    headers: { ...request.headers, 'content-length': body.length } }, (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => process.stdout.write(JSON.stringify({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') })));
  });
  outgoing.on('error', (error) => process.stdout.write(JSON.stringify({ error: error.code || error.message })));
  outgoing.end(body);
});`;

function synchronousPost(url, headers, body) {
  const child = spawnSync(process.execPath, ['-e', FETCH_CHILD], {
    input: JSON.stringify({ url, headers, body: body.toString('base64') }), timeout: 30000,
  });
  const answer = JSON.parse(child.stdout.toString('utf8') || '{"error":"no output"}');
  if (answer.error) throw new Error('Exception: Address unavailable: ' + url + ' (' + answer.error + ')');
  return answer;
}

/** Load the script into a fresh context. Returns { context, spreadsheet, properties, triggers, requests, logs }. */
function loadScript({ spreadsheet, now = () => new Date(), uuids = null } = {}) {
  const properties = new Map();
  const triggers = [];
  const requests = [];
  const logs = [];
  let uuidCount = 0;
  const propertyStore = {
    getProperty: (key) => (properties.has(key) ? properties.get(key) : null),
    setProperty: (key, value) => { properties.set(key, String(value)); return propertyStore; },
    setProperties: (map) => { Object.entries(map).forEach(([key, value]) => properties.set(key, String(value))); return propertyStore; },
    getProperties: () => Object.fromEntries(properties),
    getKeys: () => Array.from(properties.keys()),
    deleteProperty: (key) => { properties.delete(key); return propertyStore; },
  };
  const lock = () => ({ held: false, tryLock() { this.held = true; return true; }, waitLock() { this.held = true; }, releaseLock() { this.held = false; }, hasLock() { return this.held; } });
  const triggerBuilder = (handler) => {
    const trigger = { handler, source: null, eventType: null, getHandlerFunction: () => handler, getEventType: () => trigger.eventType, getUniqueId: () => String(triggers.length + 1) };
    const create = () => { triggers.push(trigger); return trigger; };
    return {
      forSpreadsheet: (source) => {
        trigger.source = source;
        return { onEdit: () => ({ create: () => { trigger.eventType = 'ON_EDIT'; return create(); } }), onChange: () => ({ create: () => { trigger.eventType = 'ON_CHANGE'; return create(); } }) };
      },
      timeBased: () => ({ everyMinutes: (minutes) => ({ create: () => { trigger.eventType = 'CLOCK'; trigger.minutes = minutes; return create(); } }) }),
    };
  };
  const record = (level) => (...parts) => logs.push({ level, text: parts.join(' ') });
  const context = {
    console: { log: record('log'), info: record('info'), warn: record('warn'), error: record('error') },
    Logger: { log: record('log') },
    SpreadsheetApp: { getActiveSpreadsheet: () => spreadsheet, getActive: () => spreadsheet },
    PropertiesService: { getScriptProperties: () => propertyStore },
    LockService: { getScriptLock: lock, getDocumentLock: lock },
    ScriptApp: {
      getProjectTriggers: () => triggers.slice(),
      newTrigger: triggerBuilder,
      deleteTrigger: (trigger) => { const index = triggers.indexOf(trigger); if (index >= 0) triggers.splice(index, 1); },
    },
    Session: { getActiveUser: () => ({ getEmail: () => 'owner@example.com' }) },
    Utilities: {
      Charset: { UTF_8: 'UTF_8', US_ASCII: 'US_ASCII' },
      computeHmacSha256Signature: (value, key, charset) => {
        if (charset !== 'UTF_8') throw new Error('stand-in: the script must pass Utilities.Charset.UTF_8');
        return signedBytes(crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(value, 'utf8')).digest());
      },
      getUuid: () => (uuids ? uuids[uuidCount++] : crypto.randomUUID()),
      formatDate,
      newBlob: (data, contentType) => ({ getBytes: () => signedBytes(Buffer.from(String(data), 'utf8')), getContentType: () => contentType }),
      base64Encode: (bytes) => Buffer.from(bytes.map((byte) => byte & 0xff)).toString('base64'),
    },
    UrlFetchApp: {
      fetch: (url, options) => {
        if (options.muteHttpExceptions !== true) throw new Error('stand-in: the script must set muteHttpExceptions');
        const body = Array.isArray(options.payload) ? Buffer.from(options.payload.map((byte) => byte & 0xff)) : Buffer.from(String(options.payload), 'utf8');
        const headers = { 'content-type': options.contentType, ...options.headers };
        requests.push({ url, headers, body: body.toString('utf8') });
        const answer = synchronousPost(url, headers, body);
        return { getResponseCode: () => answer.status, getContentText: () => answer.text };
      },
    },
  };
  vm.createContext(context);
  for (const file of SCRIPT_FILES) {
    vm.runInContext(fs.readFileSync(path.join(SCRIPT_DIRECTORY, file), 'utf8'), context, { filename: file });
  }
  // The script's clock: replace its one time source.
  context.now_ = now;
  return { context, spreadsheet, properties, triggers, requests, logs };
}

/** Start the real router with a recording Apply; resolves to { url, recorded(), makeUnavailable(n), stop() }. */
function startRecorder({ secret, spreadsheetId, sheets, columns }) {
  if (!fs.existsSync(RECORDER)) throw new Error(`${RECORDER} is missing: run tests/run-apps-script.sh (it builds it)`);
  const args = ['--secret', secret, '--spreadsheet-id', spreadsheetId, '--lifetime-seconds', '120'];
  sheets.forEach((sheet) => args.push('--sheet', sheet));
  if (columns) args.push('--columns', columns.join(','));
  const child = spawn(RECORDER, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('webhook-recorder did not start within 20 s')), 20000);
    child.on('error', reject);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[0-9.:]+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      const base = match[1];
      resolve({
        url: base + '/webhook',
        base,
        recorded: async () => (await fetch(base + '/recorded')).json(),
        makeUnavailable: async (count) => (await fetch(base + '/control/unavailable', { method: 'POST', body: String(count) })).json(),
        stop: () => child.kill(),
      });
    });
  });
}

module.exports = { FakeSpreadsheet, loadScript, startRecorder, formatDate };
