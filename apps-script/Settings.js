/**
 * sheetsync Apps Script: settings kept in script properties (never in the code).
 *
 *   WEBHOOK_URL     https://…/webhook of the sheetsync service (set by setup())
 *   WEBHOOK_SECRET  the HMAC key shared with the service (set by setup())
 *   KEY_COLUMNS     comma-separated header names of the key columns (default "id")
 *   SHEETS          optional comma-separated tab titles to sync (default: every tab)
 */

var SHEETSYNC_PROTOCOL_VERSION = 1;

/** The settings, or null when setup() has not stored a URL and secret yet. */
function readSettings_() {
  var properties = PropertiesService.getScriptProperties();
  var webhookUrl = properties.getProperty('WEBHOOK_URL');
  var secret = properties.getProperty('WEBHOOK_SECRET');
  if (!webhookUrl || !secret) {
    return null;
  }
  return {
    webhookUrl: webhookUrl,
    secret: secret,
    keyColumns: splitList_(properties.getProperty('KEY_COLUMNS') || 'id'),
    sheets: splitList_(properties.getProperty('SHEETS') || ''),
  };
}

function splitList_(text) {
  return String(text)
    .split(',')
    .map(function (item) { return item.trim(); })
    .filter(function (item) { return item.length > 0; });
}

/** Whether edits of this tab are sent: every tab unless SHEETS names some. */
function isSyncedSheet_(sheet, settings) {
  return settings.sheets.length === 0 || settings.sheets.indexOf(sheet.getName()) >= 0;
}

/** The current time; one place, so tests can fix it. */
function now_() {
  return new Date();
}
