/**
 * Entry points: setup() once as the owner, then the installable triggers call the rest.
 */

var TRIGGER_HANDLERS = ['onEditInstalled', 'onChangeInstalled', 'retryQueuedDeliveries'];

/**
 * Store the webhook URL and secret and install the triggers. Safe to run again: existing
 * triggers are kept, none is duplicated. Run from the editor without arguments after setting
 * WEBHOOK_URL and WEBHOOK_SECRET in Project Settings → Script properties, or with arguments
 * (e.g. `clasp run setup --params '["https://…/webhook","…"]'`).
 */
function setup(webhookUrl, secret) {
  var properties = PropertiesService.getScriptProperties();
  var url = webhookUrl || properties.getProperty('WEBHOOK_URL');
  if (!url || !(secret || properties.getProperty('WEBHOOK_SECRET'))) {
    throw new Error('setup: WEBHOOK_URL and WEBHOOK_SECRET are required');
  }
  // Plain http only to this machine (tests); the secret never crosses a network unencrypted.
  if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)[:\/]/.test(url)) {
    throw new Error('setup: WEBHOOK_URL must be an https:// URL');
  }
  properties.setProperty('WEBHOOK_URL', url);
  if (secret) {
    properties.setProperty('WEBHOOK_SECRET', secret);
  }
  if (!properties.getProperty('KEY_COLUMNS')) {
    properties.setProperty('KEY_COLUMNS', 'id');
  }
  var spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  var installed = ScriptApp.getProjectTriggers().map(function (trigger) { return trigger.getHandlerFunction(); });
  var created = [];
  if (installed.indexOf('onEditInstalled') < 0) {
    ScriptApp.newTrigger('onEditInstalled').forSpreadsheet(spreadsheet).onEdit().create();
    created.push('onEditInstalled');
  }
  if (installed.indexOf('onChangeInstalled') < 0) {
    ScriptApp.newTrigger('onChangeInstalled').forSpreadsheet(spreadsheet).onChange().create();
    created.push('onChangeInstalled');
  }
  if (installed.indexOf('retryQueuedDeliveries') < 0) {
    ScriptApp.newTrigger('retryQueuedDeliveries').timeBased().everyMinutes(1).create();
    created.push('retryQueuedDeliveries');
  }
  console.log('sheetsync: set up; triggers created: ' + (created.join(', ') || 'none (already installed)'));
  return created;
}

/** Remove sheetsync's triggers (the queue and properties stay). */
function teardown() {
  ScriptApp.getProjectTriggers().forEach(function (trigger) {
    if (TRIGGER_HANDLERS.indexOf(trigger.getHandlerFunction()) >= 0) {
      ScriptApp.deleteTrigger(trigger);
    }
  });
}

/** Installable onEdit: one typed cell, a paste, or a cleared block. */
function onEditInstalled(e) {
  var settings = readSettings_();
  if (!settings) {
    console.error('sheetsync: not set up (run setup())');
    return;
  }
  if (!isSyncedSheet_(e.range.getSheet(), settings)) {
    return;
  }
  var messages = buildEditMessages_(e, settings);
  if (messages.length > 0) {
    deliver_(messages, settings);
  }
}

/** Installable onChange: rows or columns inserted, removed, sorted or moved. */
function onChangeInstalled(e) {
  var settings = readSettings_();
  if (!settings) {
    console.error('sheetsync: not set up (run setup())');
    return;
  }
  var message = buildStructureMessage_(e, settings);
  if (message) {
    deliver_([message], settings);
  }
}

/** Time-driven, every minute: retry what is queued. */
function retryQueuedDeliveries() {
  var settings = readSettings_();
  if (!settings) {
    return;
  }
  var lock = LockService.getScriptLock();
  if (!lock.tryLock(1000)) {
    return; // an edit's execution is sending the queue right now
  }
  try {
    flushQueue_(settings, RETRY_FLUSH_BUDGET_MILLISECONDS);
  } finally {
    lock.releaseLock();
  }
}
