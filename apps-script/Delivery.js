/**
 * Signing, sending and the retry queue.
 *
 * Every message is first written to the queue in script properties, then the queue is sent in
 * order. A delivery leaves the queue when the service answered it (200, or a 4xx that a retry
 * cannot fix). On a network error, 408, 429 or 5xx it stays, and so does everything behind it,
 * so edits reach the service in the order they were made. The one-minute trigger retries.
 * A retry sends the same body (same delivery_id) re-signed with a fresh timestamp; the service
 * answers a delivery it already applied with its first answer.
 */

var QUEUE_PREFIX = 'QUEUED_';
/** Script property values are limited to about 9 KB; bodies are stored in parts. */
var QUEUE_PART_CHARACTERS = 8000;
/** All script properties together may hold 500 KB; one delivery may take a fifth of that. */
var MAX_QUEUED_BODY_CHARACTERS = 100000;
var EDIT_FLUSH_BUDGET_MILLISECONDS = 20000;
var RETRY_FLUSH_BUDGET_MILLISECONDS = 240000;
var queuedInThisExecution_ = 0;

/** Queue the messages, then send the queue if no other execution is sending it. */
function deliver_(messages, settings) {
  // Bodies too big for script properties (a big paste, a long key snapshot) are sent once,
  // after the queue, and not kept: reconcile repairs them if that one attempt fails.
  var unqueued = [];
  messages.forEach(function (message) {
    var body = JSON.stringify(message);
    try {
      queuePush_(body);
    } catch (error) {
      console.warn('sheetsync: delivery not kept for retry (' + error.message + '); sending it once');
      unqueued.push(body);
    }
  });
  var lock = LockService.getScriptLock();
  // Another execution holding the lock is sending the queue, ours included, or will on its
  // next run; waiting longer would only hold this edit's execution open.
  var locked = lock.tryLock(5000);
  try {
    if (locked) {
      flushQueue_(settings, EDIT_FLUSH_BUDGET_MILLISECONDS);
    }
    unqueued.forEach(function (body) { sendOnce_(settings, body); });
  } finally {
    if (locked) {
      lock.releaseLock();
    }
  }
}

function sendOnce_(settings, body) {
  var answer = post_(settings, body);
  if (answer.status !== 200) {
    console.error('sheetsync: delivery lost (' + describeAnswer_(answer) + '); `sheetsync reconcile` repairs the drift');
    return;
  }
  try {
    writeInsertedKeys_(JSON.parse(body), JSON.parse(answer.text));
  } catch (error) {
    console.error('sheetsync: could not write returned keys: ' + error);
  }
}

/** Send queued deliveries oldest first; stop at the first one that must be retried. */
function flushQueue_(settings, budgetMilliseconds) {
  var deadline = Date.now() + budgetMilliseconds;
  var entries = queueEntries_();
  for (var index = 0; index < entries.length && Date.now() < deadline; index++) {
    var entry = entries[index];
    var answer = post_(settings, entry.body);
    if (isRetryable_(answer.status)) {
      console.warn('sheetsync: delivery kept for retry (' + describeAnswer_(answer) + ')');
      return false;
    }
    if (answer.status === 200) {
      try {
        writeInsertedKeys_(JSON.parse(entry.body), JSON.parse(answer.text));
      } catch (error) {
        console.error('sheetsync: could not write returned keys: ' + error);
      }
    } else {
      // The service refused it for good (it reverts the cells and notes why); log and move on.
      console.warn('sheetsync: delivery refused, not retried (' + describeAnswer_(answer) + ')');
    }
    queueRemove_(entry);
  }
  return true;
}

/** POST one body, signed now. status 0 means the request did not complete. */
function post_(settings, body) {
  var timestamp = String(Math.floor(now_().getTime() / 1000));
  try {
    var response = UrlFetchApp.fetch(settings.webhookUrl, {
      method: 'post',
      contentType: 'application/json',
      // Bytes, so the body sent is exactly the UTF-8 that was signed.
      payload: Utilities.newBlob(body, 'application/json').getBytes(),
      headers: {
        'X-Sheetsync-Timestamp': timestamp,
        'X-Sheetsync-Signature': signature_(settings.secret, timestamp, body),
      },
      muteHttpExceptions: true,
      followRedirects: false,
    });
    return { status: response.getResponseCode(), text: response.getContentText() };
  } catch (error) {
    return { status: 0, text: String(error) };
  }
}

/** `sha256=` + lowercase hex HMAC-SHA256(secret, "<timestamp>.<body>"). */
function signature_(secret, timestamp, body) {
  var bytes = Utilities.computeHmacSha256Signature(timestamp + '.' + body, secret, Utilities.Charset.UTF_8);
  // Apps Script bytes are signed (-128..127).
  return 'sha256=' + bytes.map(function (byte) { return ('0' + (byte & 0xff).toString(16)).slice(-2); }).join('');
}

function isRetryable_(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

function describeAnswer_(answer) {
  return (answer.status === 0 ? 'no response' : 'HTTP ' + answer.status) + ': ' + String(answer.text).slice(0, 300);
}

/**
 * Write keys the service gave to inserted rows, into the row that was sent. When rows above it
 * were deleted, inserted or sorted before the answer came back (a queued delivery, or a person
 * quicker than the network), the row is found again by content: the nearest row whose key cells
 * are empty and which still holds every value that was sent. A typed row left keyless would be
 * inserted again by its next edit and leave the service's row without a place in the sheet.
 */
function writeInsertedKeys_(message, answer) {
  var inserted = (answer.results || []).filter(function (result) {
    return result.status === 'inserted' && result.key;
  });
  if (inserted.length === 0 || message.kind !== 'edit') {
    return;
  }
  var lock = LockService.getDocumentLock();
  lock.waitLock(10000);
  try {
    var spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
    var sheet = spreadsheet.getSheets().filter(function (candidate) {
      return candidate.getSheetId() === message.sheet_id;
    })[0];
    if (!sheet) {
      return;
    }
    var timeZone = spreadsheet.getSpreadsheetTimeZone();
    var header = readHeader_(sheet, sheet.getLastColumn());
    inserted.forEach(function (result) {
      var sent = message.rows.filter(function (row) { return row.row === result.row; })[0];
      var rowNumber = null;
      if (sent && rowStillHolds_(sheet, header, result.row, sent, timeZone)) {
        rowNumber = result.row;
      } else if (sent) {
        rowNumber = relocatedRow_(sheet, header, sent, Object.keys(result.key), result.row, timeZone);
      }
      if (rowNumber === null) {
        console.warn('sheetsync: row ' + result.row + ' changed before its key arrived; reconcile will fix it');
        return;
      }
      // Two messages about one typed row (cell by cell) get the same key. If the row moved
      // meanwhile, the first placed the key where the row went, and the second, matching only
      // the cells it sent, could take another keyless row for it: a key is written once.
      var placed = keyRow_(sheet, header, result.key, timeZone);
      if (placed !== null) {
        if (placed !== rowNumber) {
          console.warn('sheetsync: the key of row ' + result.row + ' is already in row ' + placed + '; not written again');
        }
        return;
      }
      Object.keys(result.key).forEach(function (column) {
        var index = header.indexOf(column);
        if (index < 0 || result.key[column] === null) {
          return;
        }
        var cell = sheet.getRange(rowNumber, index + 1);
        if (cellValue_(cell.getValue(), timeZone) === null) {
          cell.setValue(result.key[column]); // script writes fire no trigger: no echo
        }
      });
    });
  } finally {
    lock.releaseLock();
  }
}

/** The row whose key cells hold `key` (column → value), or null. */
function keyRow_(sheet, header, key, timeZone) {
  var lastRow = sheet.getLastRow();
  var columns = Object.keys(key);
  var indexes = columns.map(function (column) { return header.indexOf(column); });
  if (lastRow < 2 || indexes.indexOf(-1) >= 0) {
    return null;
  }
  var values = sheet.getRange(2, 1, lastRow - 1, header.length).getValues();
  for (var offset = 0; offset < values.length; offset++) {
    var cells = values[offset];
    var holds = indexes.every(function (index, position) {
      return cellValue_(cells[index], timeZone) === key[columns[position]];
    });
    if (holds) {
      return offset + 2;
    }
  }
  return null;
}

/** Whether the row still holds the values that were sent (rows may move meanwhile). */
function rowStillHolds_(sheet, header, rowNumber, sent, timeZone) {
  return Object.keys(sent.values).every(function (column) {
    var index = header.indexOf(column);
    return index >= 0 && cellValue_(sheet.getRange(rowNumber, index + 1).getValue(), timeZone) === sent.values[column];
  });
}

/**
 * The row a sent keyless row moved to: the nearest (the upper one on a tie) whose key cells are
 * all empty and which holds every sent value; null when there is none.
 */
function relocatedRow_(sheet, header, sent, keyColumns, sentRow, timeZone) {
  var lastRow = sheet.getLastRow();
  if (lastRow < 2 || header.length === 0) {
    return null;
  }
  var keyIndexes = keyColumns.map(function (column) { return header.indexOf(column); });
  var sentColumns = Object.keys(sent.values);
  var sentIndexes = sentColumns.map(function (column) { return header.indexOf(column); });
  if (keyIndexes.indexOf(-1) >= 0 || sentIndexes.indexOf(-1) >= 0) {
    return null;
  }
  var values = sheet.getRange(2, 1, lastRow - 1, header.length).getValues();
  var best = null;
  values.forEach(function (cells, offset) {
    var rowNumber = offset + 2;
    var keyless = keyIndexes.every(function (index) { return cellValue_(cells[index], timeZone) === null; });
    var holds = sentIndexes.every(function (index, position) {
      return cellValue_(cells[index], timeZone) === sent.values[sentColumns[position]];
    });
    if (keyless && holds && (best === null || Math.abs(rowNumber - sentRow) < Math.abs(best - sentRow))) {
      best = rowNumber;
    }
  });
  return best;
}

/** Store one body in the queue; the key orders entries by time and never collides. */
function queuePush_(body) {
  if (body.length > MAX_QUEUED_BODY_CHARACTERS) {
    throw new Error('body of ' + body.length + ' characters exceeds the queue limit of ' + MAX_QUEUED_BODY_CHARACTERS);
  }
  // Time, then a counter for messages queued in the same millisecond (the chunks of a paste).
  queuedInThisExecution_ += 1;
  var id = QUEUE_PREFIX + ('0000000000000' + now_().getTime()).slice(-13) + '_' +
    ('000' + queuedInThisExecution_).slice(-4) + '_' + Utilities.getUuid();
  var parts = {};
  var count = Math.max(1, Math.ceil(body.length / QUEUE_PART_CHARACTERS));
  for (var part = 0; part < count; part++) {
    var text = body.slice(part * QUEUE_PART_CHARACTERS, (part + 1) * QUEUE_PART_CHARACTERS);
    parts[id + '_' + ('00' + part).slice(-3) + '_' + ('00' + count).slice(-3)] = text;
  }
  // One call writes all parts, so a concurrent flush never sees half a delivery.
  PropertiesService.getScriptProperties().setProperties(parts);
}

/** Queued deliveries, oldest first: [{ keys, body }]. Incomplete entries are skipped. */
function queueEntries_() {
  var properties = PropertiesService.getScriptProperties().getProperties();
  var keys = Object.keys(properties).filter(function (key) { return key.indexOf(QUEUE_PREFIX) === 0; }).sort();
  var entries = [];
  var byId = {};
  keys.forEach(function (key) {
    var id = key.slice(0, key.length - 8);
    if (!byId[id]) {
      byId[id] = { id: id, keys: [], count: +key.slice(-3) };
      entries.push(byId[id]);
    }
    byId[id].keys.push(key);
  });
  return entries
    .filter(function (entry) { return entry.keys.length === entry.count; })
    .map(function (entry) {
      return { keys: entry.keys, body: entry.keys.map(function (key) { return properties[key]; }).join('') };
    });
}

function queueRemove_(entry) {
  var properties = PropertiesService.getScriptProperties();
  entry.keys.forEach(function (key) { properties.deleteProperty(key); });
}

/** How many deliveries wait for a retry (for a menu, a test or a curious owner). */
function queuedDeliveryCount() {
  return queueEntries_().length;
}
