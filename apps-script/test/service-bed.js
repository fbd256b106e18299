'use strict';
// The real service for the real script: starts examples/apps-script-bed.rs (MariaDB, the Sheets
// emulator and `sheetsync run`) and plays the person at the spreadsheet.
//
// The emulator holds the spreadsheet the service reads and writes (Google's copy); the harness's
// FakeSpreadsheet is what the script sees. A person's change is made in both, then the script's
// trigger runs; cells the script writes (returned keys) are copied to the emulator, and pull()
// copies the emulator's values and notes (the service's writes) back into the stand-in.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const REPOSITORY = path.join(__dirname, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(REPOSITORY, 'target');
const BED = process.env.APPS_SCRIPT_BED || path.join(TARGET, 'debug', 'examples', 'apps-script-bed');
const SHEETSYNC = process.env.SHEETSYNC_BIN || path.join(TARGET, 'debug', 'sheetsync');

/** "B", "AA"… for a 1-based column. */
function columnLetters(column) {
  let letters = '';
  for (let rest = column; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return letters;
}

/** Poll `check` (async, returns a truthy value when done) until `limit` milliseconds pass. */
async function waitFor(what, check, limit = 20000) {
  const deadline = Date.now() + limit;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function call(url, options = {}) {
  const response = await fetch(url, options);
  const text = await response.text();
  if (!response.ok) throw new Error(`${options.method || 'GET'} ${url}: ${response.status} ${text}`);
  return text;
}

/** Start the bed; resolves to the helpers below. The bed exits when this process ends. */
function startServiceBed() {
  for (const binary of [BED, SHEETSYNC]) {
    if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run tests/run-apps-script.sh (it builds it)`);
  }
  const child = spawn(BED, ['--sheetsync', SHEETSYNC], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('apps-script-bed did not start within 180 s')), 180000);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`apps-script-bed exited (${code}) before it was ready`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (!line || !output.includes('\n')) return;
      clearTimeout(timer);
      resolve(helpers(JSON.parse(line), child));
    });
  });
}

function helpers(bed, child) {
  const post = (route, body) => call(bed.bed_url + route, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const self = {
    ...bed,
    /** Rows of a query run as root, every cell as text or null. */
    sql: async (text) => JSON.parse(await post('/sql', text)).rows,
    /** The emulator's tab: { values (unformatted, as values.get returns them), notes, sheetId }. */
    emulatorSheet: async () => {
      const { values } = JSON.parse(await call(bed.bed_url + '/sheet'));
      const grid = JSON.parse(await call(`${bed.emulator_url}/_emulator/grid/${bed.spreadsheet_id}/data`));
      const tab = grid.sheets.find((sheet) => sheet.title === bed.sheet);
      return { values, notes: tab.notes, sheetId: tab.sheet_id };
    },
    /** Copy the emulator's values and notes into the stand-in tab. */
    pull: async (sheet) => {
      const { values, notes } = await self.emulatorSheet();
      sheet.cells = values.map((row) => row.slice());
      sheet.notes = new Map(notes.map((note) => [note.row + ',' + note.column, note.note]));
    },
    /** A person types or pastes `values` at (row, column): both copies change, then onEdit runs. */
    type: async (script, sheet, row, column, values) => {
      const event = sheet.edit(row, column, values);
      await self.setCells(row, column, values);
      const written = script.spreadsheet.writes.length;
      script.context.onEditInstalled(event);
      for (const [writtenRow, writtenColumn, value] of script.spreadsheet.writes.slice(written)) {
        await self.setCells(writtenRow, writtenColumn, [[value]]);
      }
      return event;
    },
    setCells: (row, column, values) => post('/sheet/values', {
      range: `${bed.sheet}!${columnLetters(column)}${row}:${columnLetters(column + values[0].length - 1)}${row + values.length - 1}`,
      values,
    }),
    /** A person deletes one row: both copies change, then onChange REMOVE_ROW runs. */
    deleteRow: async (script, sheet, row) => {
      sheet.cells.splice(row - 1, 1);
      await post('/sheet/batch-update', {
        requests: [{ deleteDimension: { range: { sheetId: sheet.getSheetId(), dimension: 'ROWS', startIndex: row - 1, endIndex: row } } }],
      });
      script.context.onChangeInstalled({ changeType: 'REMOVE_ROW', source: script.spreadsheet });
    },
    log: () => call(bed.bed_url + '/log'),
    stop: () => { child.removeAllListeners('exit'); child.stdin.end(); },
  };
  return self;
}

module.exports = { startServiceBed, waitFor, columnLetters };
