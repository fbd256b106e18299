/**
 * Building protocol messages (docs/webhook-protocol.md, version 1) from trigger events.
 * Pure apart from reading the sheet: no network, no properties.
 */

/** Bigger pastes are split so no message nears the service's limits. */
var MAX_ROWS_PER_MESSAGE = 500;
var MILLISECONDS_PER_DAY = 86400000;
/** Days from the sheets epoch 1899-12-30 to the unix epoch 1970-01-01. */
var UNIX_EPOCH_SERIAL = 25569;
/** onChange types after which the service re-reads row positions. */
var STRUCTURE_CHANGE_TYPES = ['INSERT_ROW', 'REMOVE_ROW', 'INSERT_COLUMN', 'REMOVE_COLUMN', 'OTHER'];

/**
 * The edit messages for an onEdit event: usually one, several for pastes over 500 rows,
 * none when nothing synced was touched (a column without a header, or a cleared empty row).
 */
function buildEditMessages_(e, settings) {
  var range = e.range;
  var sheet = range.getSheet();
  var spreadsheet = e.source || SpreadsheetApp.getActiveSpreadsheet();
  var lastColumn = sheet.getLastColumn();
  if (lastColumn < 1) {
    return [];
  }
  var header = readHeader_(sheet, lastColumn);
  var firstRow = range.getRow();
  var lastRow = firstRow + range.getNumRows() - 1;
  var firstColumn = range.getColumn();
  var lastEditedColumn = Math.min(firstColumn + range.getNumColumns() - 1, lastColumn);
  // Only columns with a header name are synced; anything right of the header is the user's.
  var columns = [];
  for (var column = firstColumn; column <= lastEditedColumn; column++) {
    if (header[column - 1] !== '') {
      columns.push(column);
    }
  }
  if (columns.length === 0) {
    return [];
  }
  var headerEdited = firstRow === 1;
  var rows = [];
  var dataFirstRow = Math.max(firstRow, 2);
  if (lastRow >= dataFirstRow) {
    var keyIndexes = keyColumnIndexes_(header, settings.keyColumns);
    if (keyIndexes === null) {
      console.error('sheetsync: key column(s) ' + settings.keyColumns.join(', ') +
        ' not in the header of ' + sheet.getName() + '; edit not sent');
      return [];
    }
    var singleCell = range.getNumRows() === 1 && range.getNumColumns() === 1;
    rows = readEditedRows_(sheet, header, columns, keyIndexes, dataFirstRow, lastRow,
      spreadsheet.getSpreadsheetTimeZone(), singleCell ? e.oldValue : undefined, singleCell);
  }
  if (rows.length === 0 && !headerEdited) {
    return [];
  }
  var editedAt = now_().toISOString();
  var messages = [];
  for (var start = 0; start === 0 || start < rows.length; start += MAX_ROWS_PER_MESSAGE) {
    var message = envelope_(spreadsheet, sheet, 'edit', e);
    message.edited_at = editedAt;
    message.header = header;
    message.header_edited = headerEdited && start === 0;
    message.rows = rows.slice(start, start + MAX_ROWS_PER_MESSAGE);
    messages.push(message);
  }
  return messages;
}

function readEditedRows_(sheet, header, columns, keyIndexes, firstRow, lastRow, timeZone, oldValue, singleCell) {
  var rowCount = lastRow - firstRow + 1;
  var firstColumn = columns[0];
  var width = columns[columns.length - 1] - firstColumn + 1;
  var values = sheet.getRange(firstRow, firstColumn, rowCount, width).getValues();
  var keyValues = keyIndexes.map(function (index) {
    return sheet.getRange(firstRow, index, rowCount, 1).getValues();
  });
  var rows = [];
  for (var offset = 0; offset < rowCount; offset++) {
    var key = {};
    var keyEmpty = true;
    keyIndexes.forEach(function (index, position) {
      var value = cellValue_(keyValues[position][offset][0], timeZone);
      key[header[index - 1]] = value;
      keyEmpty = keyEmpty && value === null;
    });
    var cells = {};
    var cellsEmpty = true;
    columns.forEach(function (column) {
      var value = cellValue_(values[offset][column - firstColumn], timeZone);
      cells[header[column - 1]] = value;
      cellsEmpty = cellsEmpty && value === null;
    });
    if (keyEmpty && cellsEmpty) {
      continue; // clearing cells of a row that was never synced changes nothing
    }
    var row = { row: firstRow + offset, key: key, values: cells };
    if (singleCell) {
      var old = {};
      old[header[columns[0] - 1]] = oldValue === undefined || oldValue === null ? '' : String(oldValue);
      row.old_values = old;
    }
    rows.push(row);
  }
  return rows;
}

/** The structure message for an onChange event, or null when the change moves no rows. */
function buildStructureMessage_(e, settings) {
  if (STRUCTURE_CHANGE_TYPES.indexOf(e.changeType) < 0) {
    return null;
  }
  var spreadsheet = e.source || SpreadsheetApp.getActiveSpreadsheet();
  // onChange names no range; the change happened on the tab the user is looking at.
  var sheet = spreadsheet.getActiveSheet();
  if (!isSyncedSheet_(sheet, settings)) {
    return null;
  }
  var lastColumn = sheet.getLastColumn();
  var header = lastColumn > 0 ? readHeader_(sheet, lastColumn) : [];
  var keyIndexes = keyColumnIndexes_(header, settings.keyColumns);
  if (keyIndexes === null) {
    console.error('sheetsync: key column(s) not in the header of ' + sheet.getName());
    return null;
  }
  var timeZone = spreadsheet.getSpreadsheetTimeZone();
  var lastRow = sheet.getLastRow();
  var keys = [];
  if (lastRow >= 2) {
    var columnsOfKeys = keyIndexes.map(function (index) {
      return sheet.getRange(2, index, lastRow - 1, 1).getValues();
    });
    for (var offset = 0; offset < lastRow - 1; offset++) {
      keys.push(columnsOfKeys.map(function (values) { return cellValue_(values[offset][0], timeZone); }));
    }
  }
  var message = envelope_(spreadsheet, sheet, 'structure', e);
  message.change_type = e.changeType;
  message.changed_at = now_().toISOString();
  message.key_columns = settings.keyColumns.slice();
  message.keys = keys;
  return message;
}

function envelope_(spreadsheet, sheet, kind, e) {
  return {
    version: SHEETSYNC_PROTOCOL_VERSION,
    delivery_id: Utilities.getUuid(),
    kind: kind,
    spreadsheet_id: spreadsheet.getId(),
    sheet: sheet.getName(),
    sheet_id: sheet.getSheetId(),
    sent_at: now_().toISOString(),
    user: editorEmail_(e),
  };
}

function readHeader_(sheet, lastColumn) {
  return sheet.getRange(1, 1, 1, lastColumn).getValues()[0].map(function (value) {
    return value === null || value === undefined ? '' : String(value);
  });
}

/** 1-based column of each key column, or null when one is missing from the header. */
function keyColumnIndexes_(header, keyColumns) {
  var indexes = keyColumns.map(function (name) { return header.indexOf(name) + 1; });
  return indexes.indexOf(0) >= 0 || indexes.length === 0 ? null : indexes;
}

/** A cell as the protocol sends it: null when empty, dates as serial numbers. */
function cellValue_(value, timeZone) {
  if (value === '' || value === null || value === undefined) {
    return null;
  }
  if (typeof value === 'number') {
    return isFinite(value) ? value : String(value);
  }
  if (typeof value === 'boolean') {
    return value;
  }
  // Not `instanceof Date`: values may come from another realm (tests run the script in a vm).
  if (Object.prototype.toString.call(value) === '[object Date]') {
    return serialNumber_(value, timeZone);
  }
  return String(value);
}

/** Days since 1899-12-30 in the spreadsheet's time zone, the time of day as the fraction. */
function serialNumber_(date, timeZone) {
  var text = Utilities.formatDate(date, timeZone, "yyyy-MM-dd'T'HH:mm:ss.SSS");
  var parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(text);
  var wallClock = Date.UTC(+parts[1], +parts[2] - 1, +parts[3], +parts[4], +parts[5], +parts[6], +parts[7]);
  return wallClock / MILLISECONDS_PER_DAY + UNIX_EPOCH_SERIAL;
}

/** The editor's email when Google reveals it (often it does not). */
function editorEmail_(e) {
  try {
    if (e && e.user) {
      var email = typeof e.user.getEmail === 'function' ? e.user.getEmail() : String(e.user);
      return email ? email : null;
    }
  } catch (error) {
    // Without the userinfo.email scope getEmail() throws; the user is optional.
  }
  return null;
}
