// Drives a running code-server workbench with headless Chromium (playwright-core) the way a
// person would: open the invalid artifact, see squiggles and Problems entries at the exact
// positions, hover, complete, apply a quick fix with Ctrl+., run UET commands from the palette.
// Usage: node drive.mjs BASE_URL WORKSPACE EXPECTED_JSON ARTIFACTS_DIR   (see run.sh); the
// folders UET_PLAIN_FOLDER (no artifacts) and UET_NO_SERVER_FOLDER (bad uet.server.path) are
// opened last.
// Prints ok/FAIL/pending lines and a closing `N passed, N failed` line; exit 1 on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [baseUrl, workspace, expectedFile, artifacts] = process.argv.slice(2);
const folderUrl = (folder) => `${baseUrl}/?folder=${encodeURIComponent(folder)}`;
const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8'));
const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1)}s]`;
let passed = 0;
const failed = [];
const pending = [];
const check = (condition, what, detail) => {
  if (condition) {
    passed++;
    console.log(`ok: ${what}`);
  } else {
    failed.push(what);
    console.log(`FAIL: ${what}${detail ? `\n      ${detail}` : ''}`);
  }
  return condition;
};
const markPending = (what, why) => {
  pending.push(what);
  console.log(`pending: ${what} (${why})`);
};
const note = (text) => console.log(`${stamp()} ${text}`);
const normalize = (text) => text.replace(/\u00a0/g, ' ');
// how long a short run may take: its task processes run at idle CPU priority (the default
// uet.runPriority), so on a busy machine they get the CPU only when nothing else wants it
const RUN_TIMEOUT = 240000;
/** Polls `condition` (sync or async) until it holds (true) or `timeout` ms pass (false). */
async function until(condition, timeout) {
  for (const deadline = Date.now() + timeout; Date.now() < deadline;) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // no sandbox as root; no background networking: this machine only reaches loopback
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const editorLines = '.part.editor .monaco-editor .view-lines';

async function quickInput(prefixKey, text) {
  await page.keyboard.press(prefixKey);
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 15000 });
  if (text !== undefined) await page.keyboard.type(text);
}

async function gotoPosition(line, character) {
  await quickInput('Control+G', `${line + 1}:${character + 1}`);
  await page.keyboard.press('Enter');
  // the cursor is there once the status bar says so
  const at = `Ln ${line + 1}, Col ${character + 1}`;
  await page.waitForSelector('.quick-input-widget', { state: 'hidden', timeout: 10000 }).catch(() => null);
  await page.waitForFunction((want) => new RegExp(`${want}(?!\\d)`).test((document.querySelector('.statusbar-item[id="status.editor.selection"]')?.textContent || '').replace(/\u00a0/g, ' ')),
    at, { timeout: 10000 }).catch(async () => note(`the cursor is not at ${at}: ${await cursorPosition()}`));
}

/** Waits (at most 15 s) until the open quick pick has a row with each of `texts`. */
async function quickPickShows(texts) {
  return page.waitForFunction((wanted) => {
    const shown = [...document.querySelectorAll('.quick-input-list .monaco-list-row')]
      .map((row) => (row.getAttribute('aria-label') || row.textContent || '').replace(/\u00a0/g, ' '));
    return wanted.every((text) => shown.some((label) => label.includes(text)));
  }, texts, { timeout: 15000 }).then(() => true).catch(() => false);
}

/** Rows of the open quick pick, as their visible labels. */
async function quickPickLabels() {
  return page.$$eval('.quick-input-list .monaco-list-row', (rows) => rows.map((row) => row.getAttribute('aria-label') || row.textContent || ''));
}

async function runPaletteCommand(title) {
  await quickInput('F1', title);
  const row = await page.waitForSelector(`.quick-input-list .monaco-list-row.focused:has-text("${title}")`, { timeout: 15000 }).catch(() => null);
  if (!row) {
    await page.keyboard.press('Escape');
    return false;
  }
  await page.keyboard.press('Enter');
  return true;
}

async function screenshot(name, clip) {
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file, clip }).catch(() => {});
  return file;
}

/** The editor and the panel below it, without the side bar: the README pictures. */
async function editorClip() {
  const box = await page.locator('.part.editor').boundingBox();
  const panel = await page.locator('.part.panel').boundingBox().catch(() => null);
  if (!box) return undefined;
  const bottom = panel ? Math.min(panel.y + 110, panel.y + panel.height) : box.y + box.height;
  return { x: box.x, y: box.y, width: box.width, height: bottom - box.y };
}

async function openInvalidArtifact() {
  await page.goto(folderUrl(workspace));
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  note('workbench loaded');
  await page.waitForSelector('.explorer-folders-view, .explorer-viewlet', { timeout: 30000 }).catch(() => {});
  const statusItem = await page.waitForSelector('.statusbar-item:has-text("UET")', { timeout: 60000 }).catch(() => null);
  check(!!statusItem, 'the extension activates in a workspace with UET artifacts (status bar item "UET")');
  await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } }).catch(() => {});
  await quickInput('Control+P', path.basename(expected.file));
  await page.waitForSelector(`.quick-input-list .monaco-list-row.focused:has-text("${path.basename(expected.file)}")`, { timeout: 15000 });
  const opened = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${editorLines}:has-text("fail_fastt")`, { timeout: 30000 });
  const squiggle = await page.waitForSelector('.part.editor .monaco-editor .squiggly-error', { timeout: 60000 }).catch(() => null);
  check(!!squiggle, 'error squiggles are rendered on the invalid artifact');
  console.log(`startup: open file -> first squiggle: ${Date.now() - opened} ms (server started at activation; workbench load -> squiggle: ${Date.now() - t0} ms since page load began)`);
}

async function checkProblems() {
  await page.keyboard.press('Control+Shift+M');
  await page.waitForFunction((messages) => {
    const shown = [...document.querySelectorAll('.markers-panel .monaco-list-row')].map((row) => row.textContent || '');
    return messages.every((message) => shown.some((text) => text.includes(message)));
  }, expected.diagnostics.map((want) => want.message), { timeout: 15000 }).catch(() => null);
  const rows = (await page.$$eval('.markers-panel .monaco-list-row', (items) => items.map((row) => row.textContent || ''))).map(normalize);
  for (const want of expected.diagnostics) {
    const position = `[Ln ${want.line + 1}, Col ${want.character + 1}]`;
    const row = rows.find((text) => text.includes(want.message));
    check(!!row && row.includes(position) && row.includes(want.code),
      `Problems lists ${want.code} "${want.message.slice(0, 40)}…" at ${position}`, `rows: ${JSON.stringify(rows)}`);
  }
  const entries = rows.filter((text) => text.includes('UET'));
  check(entries.length === expected.diagnostics.length, `Problems has exactly ${expected.diagnostics.length} UET entries`,
    `rows: ${JSON.stringify(rows)}`);
}

/** The picture for the README: the squiggle's hover (message, quick fix) over the Problems panel. */
async function diagnosticScreenshot() {
  const first = expected.diagnostics[0];
  await page.locator(editorLines).first().click();
  await gotoPosition(first.line, first.character + 2);
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  await page.waitForSelector('.monaco-hover:visible :text("did you mean")', { timeout: 15000 }).catch(() => null);
  await page.waitForTimeout(700);
  await screenshot('vscode-diagnostics.png');
  await screenshot('readme-diagnostic.png', await editorClip());
  await page.keyboard.press('Escape');
}

async function checkHover() {
  await page.locator(editorLines).first().click();
  await gotoPosition(expected.hover.line, expected.hover.character);
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+I');
  const hover = await page.waitForSelector(`.monaco-hover:visible :text("${expected.hover.contains}")`, { timeout: 15000 }).catch(() => null);
  const text = await page.$$eval('.monaco-hover', (nodes) => nodes.map((n) => n.textContent).join(' | ')).catch(() => '');
  check(!!hover, `hover on \`strategy\` shows "${expected.hover.contains}"`, `hover: ${text.slice(0, 300)}`);
  await page.waitForTimeout(700); // the hover fades in
  await screenshot('vscode-hover.png');
  await page.keyboard.press('Escape');
}

async function checkCompletion() {
  for (const item of expected.completion) {
    await gotoPosition(item.line, item.character);
    await page.keyboard.press('Control+Space');
    await page.waitForFunction((wanted) => {
      const shown = [...document.querySelectorAll('.suggest-widget.visible .monaco-list-row')].map((row) => row.getAttribute('aria-label') || '');
      return wanted.every((label) => shown.some((text) => text.startsWith(label)));
    }, item.labels, { timeout: 15000 }).catch(() => null);
    const labels = await page.$$eval('.suggest-widget.visible .monaco-list-row', (rows) => rows.map((row) => row.getAttribute('aria-label') || ''));
    const missing = item.labels.filter((label) => !labels.some((text) => text.startsWith(label)));
    check(missing.length === 0, `completion (Ctrl+Space) offers the ${item.what}: ${item.labels.join(', ')}`,
      `missing ${JSON.stringify(missing)} in ${JSON.stringify(labels)}`);
    await page.keyboard.press('Escape');
  }
}

async function checkQuickFix() {
  const fix = expected.quickFix;
  await gotoPosition(fix.line, fix.character);
  await page.keyboard.press('Control+.');
  await page.waitForSelector('.action-widget .monaco-list-row', { timeout: 15000 }).catch(() => null);
  const titles = await page.$$eval('.action-widget .monaco-list-row', (rows) => rows.map((row) => (row.getAttribute('aria-label') || row.textContent || '').trim()));
  const index = titles.findIndex((title) => title.includes(fix.title));
  check(index >= 0, `Ctrl+. offers the quick fix ${fix.title}`, `offered ${JSON.stringify(titles)}`);
  if (index < 0) {
    await page.keyboard.press('Escape');
    return;
  }
  // the first enabled item has the focus; Enter (not a click) applies the focused one
  const focused = await page.$$eval('.action-widget .monaco-list-row', (rows) => rows.findIndex((row) => row.classList.contains('focused')));
  for (let i = Math.max(focused, 0); i < index; i++) await page.keyboard.press('ArrowDown');
  for (let i = Math.max(focused, 0); i > index; i--) await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  const applied = await page.waitForFunction(
    ([selector, after]) => {
      const lines = [...document.querySelectorAll(`${selector} .view-line`)].map((line) => (line.textContent || '').replace(/\u00a0/g, ' '));
      return lines.includes(after) && !lines.some((line) => line.includes('fail_fastt'));
    },
    [editorLines, fix.lineAfter], { timeout: 15000 },
  ).then(() => true).catch(() => false);
  check(applied, `applying it changes the line to \`${fix.lineAfter.trim()}\``);
  const remaining = await page.waitForFunction(
    (count) => document.querySelectorAll('.markers-panel .monaco-list-row').length > 0
      && [...document.querySelectorAll('.markers-panel .monaco-list-row')].filter((row) => (row.textContent || '').includes('UET')).length === count,
    expected.diagnostics.length - 1, { timeout: 15000 },
  ).then(() => true).catch(() => false);
  check(remaining, 'the fixed problem leaves the Problems panel, the other stays');
  await page.keyboard.press('Control+Z');
}

async function checkPalette() {
  const titles = ['Show schema for this file', 'Restart server', 'Run server command…', 'Show server log'];
  await quickInput('F1', 'UET: ');
  await quickPickShows(titles.map((title) => `UET: ${title}`));
  const labels = (await quickPickLabels()).map(normalize);
  await page.keyboard.press('Escape');
  note(`palette: ${JSON.stringify(labels)}`);
  for (const title of titles) {
    check(labels.some((label) => label.includes(`UET: ${title}`)), `the palette offers "UET: ${title}"`);
  }
  // every command the server lists is reachable: "Run server command…" lists them all
  await runPaletteCommand('UET: Run server command…');
  await quickPickShows(['uet.showSchema']);
  const offered = (await quickPickLabels()).map(normalize);
  await page.keyboard.press('Escape');
  note(`server commands: ${JSON.stringify(offered)}`);
  check(offered.some((label) => label.includes('uet.showSchema')), '"UET: Run server command…" lists the server\'s commands',
    JSON.stringify(offered));
  const hidden = ['Run workstream', 'Cancel run'].filter((title) => !offered.some((label) => label.includes(title)));
  const leaked = hidden.filter((title) => labels.some((label) => label.includes(`UET: ${title}`)));
  check(leaked.length === 0, 'palette entries of commands this server does not offer are hidden', JSON.stringify(leaked));
  return offered;
}

/** The extension strips its own settings (uet.server.*) before the server sees the section. */
async function checkNoSettingsWarning() {
  // toasts hide after a while: read the notification center, which keeps them all
  await runPaletteCommand('Notifications: Show Notifications');
  await page.waitForSelector('.notifications-center .notification-list-item', { state: 'visible', timeout: 10000 }).catch(() => null);
  const texts = await page.$$eval('.notifications-center .notification-list-item', (nodes) => nodes.map((node) => node.textContent || ''));
  note(`notifications: ${JSON.stringify(texts)}`);
  const warnings = texts.filter((text) => text.includes('uet settings'));
  check(texts.length > 0 && warnings.length === 0,
    'the server accepts the settings the extension sends (notifications hold no "uet settings" warning)', JSON.stringify(texts));
  await page.keyboard.press('Escape');
}

async function checkShowSchema() {
  await page.locator(editorLines).first().click();
  await runPaletteCommand('UET: Show schema for this file');
  const toast = await page.waitForSelector('.notification-toast :text("workstream_spec")', { timeout: 15000 }).catch(() => null);
  check(!!toast, '"UET: Show schema for this file" shows the schema and why');
}

/** The run flows against the real engine: progress notification, Cancel button, results. */
async function checkRuns(offered) {
  if (!offered.some((label) => label.includes('uet.runWorkstream'))) {
    markPending('"UET: Run workstream" shows a progress notification and its end', 'the server offers no uet.runWorkstream yet');
    markPending('the progress notification\'s Cancel button cancels the run', 'the server offers no uet.cancelRun yet');
    return;
  }
  const runs = expected.runs;
  // a progress notification: a toast whose progress bar runs
  const progressToast = (title) => `.notification-toast:has-text("${title}"):has(.monaco-progress-container.active)`;
  const messageOf = async (toast) => normalize(await toast.$eval('.notification-list-item-message', (node) => node.textContent || '').catch(() => ''));
  await clearNotifications();

  await openFile(runs.quick.file);
  await page.locator(editorLines).first().click();
  const started = Date.now();
  await runPaletteCommand('UET: Run workstream');
  const shown = await page.waitForSelector(progressToast(runs.quick.title), { timeout: 15000 }).catch(() => null);
  check(!!shown, `F1 "UET: Run workstream" shows the progress notification "${runs.quick.title}"`);
  const summary = await page.waitForSelector(`.notification-toast:has-text("${runs.quick.title} succeeded")`, { timeout: RUN_TIMEOUT }).catch(() => null);
  const gone = await page.waitForSelector(progressToast(runs.quick.title), { state: 'detached', timeout: 10000 }).then(() => true).catch(() => false);
  check(!!summary && gone, 'the notification ends and the summary "… succeeded: 3 succeeded in …" follows',
    JSON.stringify({ summary: summary ? await messageOf(summary) : null, progressGone: gone }));
  console.log(`run: ws-quick ended ${Date.now() - started} ms after F1 "UET: Run workstream"`);
  await endRun(runs.quick.file, runs.quick.title, true);

  await openFile(runs.slow.file);
  await page.locator(editorLines).first().click();
  await runPaletteCommand('UET: Run workstream');
  const slow = await page.waitForSelector(progressToast(runs.slow.title), { timeout: 15000 }).catch(() => null);
  const status = await page.waitForSelector('.statusbar-item:has-text("Slow work")', { timeout: 10000 }).catch(() => null);
  check(!!status, 'the status bar shows the running workstream (uet/runStatus)');
  await page.waitForTimeout(600);
  await screenshot('vscode-progress.png');
  await screenshot('readme-progress.png', await workbenchClip());
  const cancel = slow && await slow.$('.monaco-button:has-text("Cancel")');
  check(!!cancel, 'a long run\'s progress notification has a Cancel button');
  if (cancel) {
    const clicked = Date.now();
    await cancel.click();
    const canceled = await page.waitForSelector(`.notification-toast:has-text("${runs.slow.title} canceled")`, { timeout: 15000 }).catch(() => null);
    check(!!canceled, 'Cancel ends the run: "UET: Slow work canceled: …"');
    console.log(`cancel: Cancel button -> summary in ${Date.now() - clicked} ms`);
  }
  await endRun(runs.slow.file, runs.slow.title);

  await openFile(runs.fail.file);
  await page.locator(editorLines).first().click();
  await runPaletteCommand('UET: Run workstream');
  const position = `[Ln ${runs.fail.taskLine + 1}, Col`;
  const failedRow = await page.waitForFunction(([prefix, where]) => [...document.querySelectorAll('.markers-panel .monaco-list-row')]
    .some((row) => (row.textContent || '').includes(prefix) && (row.textContent || '').includes(where)),
  [runs.fail.codePrefix, position], { timeout: RUN_TIMEOUT }).then(() => true).catch(() => false);
  check(failedRow, `the failed task shows in Problems as ${runs.fail.codePrefix}xx on its task_id line`);
  await endRun(runs.fail.file, runs.fail.title, true);
}

/** The editor, the panel and the notifications: the README picture of a run. */
async function workbenchClip() {
  const box = await page.locator('.part.editor').boundingBox();
  if (!box) return undefined;
  return { x: box.x, y: box.y, width: box.width, height: 800 - 22 - box.y };
}

async function openFile(relative) {
  const name = path.basename(relative);
  await quickInput('Control+P', name);
  // Enter opens the focused row: wait until the filtering has put the file there
  await page.waitForSelector(`.quick-input-list .monaco-list-row.focused:has-text("${name}")`, { timeout: 15000 });
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tab.active:has-text("${name}")`, { timeout: 15000 });
}

async function cursorPosition() {
  return normalize(await page.locator('.statusbar-item[id="status.editor.selection"]').textContent().catch(() => ''));
}

/** Texts of the code lenses shown in the active editor. */
async function lensTexts() {
  return (await page.$$eval('.part.editor .monaco-editor .codelens-decoration', (nodes) => nodes.map((node) => node.textContent || '')))
    .map(normalize);
}

/** The visible notification toasts' messages. */
async function toastTexts() {
  return (await page.$$eval('.notification-toast .notification-list-item-message', (nodes) => nodes.map((node) => node.textContent || '')))
    .map(normalize);
}

/** A modal dialog with `text`, or null. */
async function dialogWith(text, timeout = 15000) {
  return page.waitForSelector(`.monaco-dialog-box:has-text("${text}")`, { timeout }).catch(() => null);
}

/**
 * The "UET Language Server" output channel's log files (what the user reads in the Output
 * panel), each with its size now: a mark to read what is written after it.
 */
function outputMark() {
  const logs = process.env.UET_USER_LOGS;
  if (!logs || !fs.existsSync(logs)) return new Map();
  return new Map(fs.readdirSync(logs, { recursive: true }).map(String).filter((name) => /UET/.test(path.basename(name)))
    .map((name) => path.join(logs, name)).map((file) => [file, fs.statSync(file).size]));
}

/** The output channel's records written since `mark` (a record may span lines). */
function outputSince(mark) {
  return [...outputMark().keys()].flatMap((file) => fs.readFileSync(file).subarray(mark.get(file) ?? 0).toString('utf8')
    .split(/\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/));
}

/**
 * Waits until the traced output channel (uet.trace.server: verbose) shows, after `mark`, the
 * answer to the server's workspace/configuration with `want` in every `uet` section: from then
 * on the server has those settings (its next request is handled after that answer).
 */
async function serverGotSettings(mark, want, timeout = 30000) {
  const matches = (record) => {
    const at = record.indexOf('Result: ');
    if (!record.includes("Sending response 'workspace/configuration") || at < 0) return false;
    try {
      const sections = JSON.parse(record.slice(at + 'Result: '.length));
      return Array.isArray(sections) && sections.length > 0
        && sections.every((section) => section && Object.entries(want).every(([key, value]) => section[key] === value));
    } catch {
      return false;
    }
  };
  return until(() => outputSince(mark).some(matches), timeout);
}

/** Whether a run of the workstream `title` ("UET: …") shows: progress notification or status bar. */
async function runShows(title) {
  return page.evaluate(([title, name]) => [...document.querySelectorAll('.notification-toast')]
    .some((toast) => (toast.textContent || '').includes(title) && !!toast.querySelector('.monaco-progress-container.active'))
    || [...document.querySelectorAll('.statusbar-item')].some((item) => (item.textContent || '').includes(name)),
  [title, title.replace(/^UET: /, '')]);
}

/** Waits until no run of `title` shows any more. */
async function runGone(title, timeout = RUN_TIMEOUT) {
  return until(async () => !await runShows(title), timeout);
}

/** Clears the notifications and waits until no toast is left. */
async function clearNotifications() {
  await runPaletteCommand('Notifications: Clear All Notifications');
  await page.waitForSelector('.notification-toast', { state: 'detached', timeout: 10000 }).catch(() => null);
}

/**
 * Whatever a check left behind: an open dialog is dismissed, a run of `file` (workstream
 * `title`) still going is cancelled with its lens (after it had time to end by itself, for a
 * run that `finishes`), and the check's notifications are cleared, so the next check starts
 * with no run and no toast.
 */
async function endRun(file, title, finishes = false) {
  if (await page.$('.monaco-dialog-box')) await page.keyboard.press('Escape');
  await page.waitForSelector('.monaco-dialog-box', { state: 'detached', timeout: 10000 }).catch(() => null);
  if (finishes) await runGone(title);
  if (await runShows(title)) {
    note(`${title} still runs after the check: cancelling it`);
    await openFile(file).catch(() => {});
    await page.locator('.codelens-decoration a:has-text("Cancel run")').first().click({ timeout: 15000 }).catch(() => {});
  }
  if (!await runGone(title)) note(`${title} still shows after the check`);
  await clearNotifications();
}

/**
 * Trust asked in a modal dialog (not a toast that slips into the bell); one run per
 * workstream: the lens turns into ■ Cancel run, a second start offers to cancel the running
 * one instead of starting another. The workspace settings turn trust off (and on the LSP
 * trace, through which the test sees when the server has the new settings).
 */
async function checkOneRunAtATime() {
  const runs = expected.runs;
  const settingsDir = path.join(workspace, '.vscode');
  const settingsFile = path.join(settingsDir, 'settings.json');
  fs.mkdirSync(settingsDir, { recursive: true });
  let mark = outputMark();
  fs.writeFileSync(settingsFile, '{ "uet.trustedWorkspace": false, "uet.trace.server": "verbose" }\n');
  const written = Date.now();
  try {
    await clearNotifications();
    await openFile(runs.slow.file);
    await page.locator(editorLines).first().click();
    const runLens = await page.waitForSelector('.codelens-decoration a:has-text("Run workstream")', { timeout: 15000 }).catch(() => null);
    check(!!runLens, 'a valid workstream shows the "▶ Run workstream" lens');
    if (!runLens) return;
    const untrusted = await serverGotSettings(mark, { trustedWorkspace: false });
    console.log(`settings: the server had the new workspace settings by ${Date.now() - written} ms after they were written`);
    check(untrusted, 'a changed setting reaches the server without a restart (workspace/configuration answers uet.trustedWorkspace: false)');
    if (!untrusted) return;
    await page.locator('.codelens-decoration a:has-text("Run workstream")').first().click();
    const trust = await dialogWith('Allow uet to run');
    const inBell = (await toastTexts()).some((text) => text.includes('Allow uet to run'));
    check(!!trust && !inBell, 'the trust question is a modal dialog, not a notification', JSON.stringify({ dialog: !!trust, toasts: await toastTexts() }));
    await screenshot('vscode-trust-question.png');
    if (!trust) return;
    await (await trust.$('.monaco-button:has-text("Trust and run")'))?.click();
    const progressToast = `.notification-toast:has-text("${runs.slow.title}"):has(.monaco-progress-container.active)`;
    await page.waitForSelector(progressToast, { timeout: 15000 }).catch(() => null);
    const cancelLens = await page.waitForSelector('.codelens-decoration a:has-text("Cancel run")', { timeout: 15000 }).catch(() => null);
    const lenses = await lensTexts();
    check(!!cancelLens && !lenses.some((text) => text.includes('Run workstream') || text.includes('Run task')),
      'while it runs, the lens shows only ■ Cancel run', JSON.stringify(lenses));
    await screenshot('vscode-one-run-at-a-time.png', await workbenchClip());
    await runPaletteCommand('UET: Run workstream');
    const again = await dialogWith('is already running');
    check(!!again, 'a second "Run workstream" starts nothing and offers to cancel the running one (a dialog)');
    await screenshot('vscode-already-running.png');
    if (again) await (await again.$('.monaco-button:has-text("Keep it running")'))?.click();
    await page.waitForSelector('.monaco-dialog-box', { state: 'detached', timeout: 10000 }).catch(() => null);
    await page.waitForTimeout(1500); // time for a second run's notification to show (there must be none)
    const progressCount = (await page.$$(progressToast)).length;
    check(progressCount === 1, 'still one progress notification: one run', `progress notifications: ${progressCount}`);
    if (cancelLens) {
      await page.locator('.codelens-decoration a:has-text("Cancel run")').first().click();
      const canceled = await page.waitForSelector(`.notification-toast:has-text("${runs.slow.title} canceled")`, { timeout: 15000 }).catch(() => null);
      const back = await page.waitForSelector('.codelens-decoration a:has-text("Run workstream")', { timeout: 15000 }).catch(() => null);
      check(!!canceled && !!back, 'the ■ Cancel run lens cancels it and ▶ Run workstream comes back');
    }
  } finally {
    await endRun(runs.slow.file, runs.slow.title);
    // trust back to the user settings (seen through the trace), then no workspace settings at all
    mark = outputMark();
    fs.writeFileSync(settingsFile, '{ "uet.trace.server": "verbose" }\n');
    if (!await serverGotSettings(mark, { trustedWorkspace: true })) note('the server did not get uet.trustedWorkspace: true back');
    fs.rmSync(settingsDir, { recursive: true, force: true });
  }
}

/** An invalid workstream: no Run lens; running it from the palette shows ONE message with every problem. */
async function checkRefusedRun() {
  await clearNotifications();
  await openFile(expected.file);
  await page.waitForSelector('.part.editor .monaco-editor .squiggly-error', { timeout: 30000 }).catch(() => null);
  await page.waitForTimeout(1500); // lenses come after the diagnostics
  const lenses = await lensTexts();
  check(!lenses.some((text) => text.includes('Run')), 'an invalid workstream has no Run lens', JSON.stringify(lenses));
  await page.locator(editorLines).first().click();
  await runPaletteCommand('UET: Run workstream');
  const problems = expected.diagnostics.length;
  const refused = await page.waitForSelector(`.notification-toast:has-text("cannot run, it has ${problems} problems")`, { timeout: 15000 }).catch(() => null);
  await page.waitForTimeout(2000); // time for any further message to appear
  const toasts = await toastTexts();
  const text = refused ? normalize(await refused.$eval('.notification-list-item-message', (node) => node.textContent || '')) : '';
  check(!!refused && expected.diagnostics.every((want) => text.includes(want.code)),
    `the refused run names all ${problems} problems in its message`, text || JSON.stringify(toasts));
  check(toasts.length === 1, 'the refused run is ONE message (no "Request … failed", no "command … failed")', JSON.stringify(toasts));
  await screenshot('vscode-refused-run.png');
  await clearNotifications();
}

/** The output channel: one timestamp, real levels, a line per run start and end, no protocol noise. */
async function checkOutputChannel() {
  if (!process.env.UET_USER_LOGS) return;
  const read = () => [...outputMark().keys()].flatMap((file) => fs.readFileSync(file, 'utf8').split('\n'));
  // the channel's file is written a moment after the restart whose exit line comes last
  await until(() => read().some((line) => line.includes('exited with code 0')), 10000);
  const lines = read();
  const doubled = lines.filter((line) => /\[\w+\] (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\[(Info|Error|Warn|Debug|Trace)\s*-)/.test(line));
  check(lines.length > 0 && doubled.length === 0, 'the output channel has one timestamp per line', JSON.stringify(doubled.slice(0, 3)));
  check(lines.some((line) => /\[info\] run \w+ started: /.test(line)) && lines.some((line) => /\[info\] run \w+ ended: /.test(line)),
    'the output channel has a line when a run starts and when it ends');
  check(!lines.some((line) => line.includes('Cancel notification for unknown message id')), 'no "Cancel notification for unknown message id" in the output channel');
  const exits = lines.filter((line) => line.includes('exited with code 0'));
  check(exits.length > 0 && exits.every((line) => line.includes('[info]')), 'a normal stop (restart) is logged as info, not as an error', JSON.stringify(exits));
}

/** A project without UET files: the extension activates; bootstrap shows what it will write first. */
async function checkBootstrapPreview(folder) {
  await page.goto(folderUrl(folder));
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  const item = await page.waitForSelector('.statusbar-item:has-text("UET")', { timeout: 60000 }).catch(() => null);
  check(!!item, 'the extension activates in a project folder without UET files (pyproject.toml)');
  await page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((node) => /UET/.test(node.textContent || '') && !/loading/.test(node.innerHTML)), null, { timeout: 30000 }).catch(() => null);
  await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } }).catch(() => {});
  await runPaletteCommand('UET: Bootstrap workspace');
  const pick = await page.waitForSelector('.quick-input-widget:has-text("preview")', { timeout: 30000 }).catch(() => null);
  await quickPickShows(['PROJECT_PROFILE.yaml', 'Write ']);
  const rows = (await quickPickLabels()).map(normalize);
  const written = fs.existsSync(path.join(folder, 'PROJECT_PROFILE.yaml'));
  check(!!pick && rows.some((row) => row.includes('PROJECT_PROFILE.yaml')) && rows.some((row) => /Write \d+ file/.test(row)) && !written,
    '"UET: Bootstrap workspace" shows the files it would write, and writes nothing yet', JSON.stringify(rows.slice(0, 6)));
  await screenshot('vscode-bootstrap-preview.png');
  if (!pick) return;
  await page.keyboard.press('Escape');
  await page.waitForTimeout(800);
  check(!fs.existsSync(path.join(folder, 'PROJECT_PROFILE.yaml')), 'Escape writes nothing');
  await runPaletteCommand('UET: Bootstrap workspace');
  await page.waitForSelector('.quick-input-list .monaco-list-row.focused:has-text("Write")', { timeout: 30000 }).catch(() => null);
  await page.keyboard.press('Enter'); // the first entry: Write
  let appeared = false;
  for (let i = 0; i < 100 && !appeared; i++) {
    appeared = fs.existsSync(path.join(folder, 'PROJECT_PROFILE.yaml'));
    if (!appeared) await page.waitForTimeout(200);
  }
  check(appeared, '"Write" applies the previewed bootstrap (PROJECT_PROFILE.yaml is created)');
}

/** Go to definition (F12), the symbol picker (Ctrl+Shift+O) and rename (F2). */
async function checkNavigation() {
  const nav = expected.navigation;
  await openFile(nav.file);
  await gotoPosition(nav.definition.from[0], nav.definition.from[1]);
  await page.keyboard.press('F12');
  const target = `Ln ${nav.definition.to[0] + 1}, Col ${nav.definition.to[1] + 1}`;
  const jumped = await page.waitForFunction((want) => {
    const item = document.querySelector('.statusbar-item[id="status.editor.selection"]');
    return (item?.textContent || '').includes(want);
  }, target, { timeout: 15000 }).then(() => true).catch(() => false);
  check(jumped, `F12 on a depends_on entry jumps to its task_id (${target})`, `cursor: ${await cursorPosition()}`);

  await page.keyboard.press('Control+Shift+O');
  await quickPickShows(nav.symbols);
  const symbols = (await quickPickLabels()).map(normalize);
  await page.keyboard.press('Escape');
  const missing = nav.symbols.filter((symbol) => !symbols.some((label) => label.includes(symbol)));
  check(missing.length === 0, 'Ctrl+Shift+O lists the workstream and its tasks', `missing ${JSON.stringify(missing)} in ${JSON.stringify(symbols)}`);

  await gotoPosition(nav.rename.at[0], nav.rename.at[1]);
  await page.keyboard.press('F2');
  // the rename box opens with the old name selected; type only once it has the focus
  const box = await page.waitForFunction(() => !!document.activeElement?.closest('.rename-box'), null, { timeout: 15000 })
    .then(() => true).catch(() => false);
  if (box) {
    await page.keyboard.type(nav.rename.newName);
    await page.keyboard.press('Enter');
  }
  // code lenses push lines out of the viewport: reveal each changed line before reading it
  let renamed = box;
  for (const [line, text] of Object.entries(nav.rename.lines)) {
    if (!renamed) break;
    await gotoPosition(Number(line), 0);
    renamed = await page.waitForFunction(([selector, want]) => {
      const shown = [...document.querySelectorAll(`${selector} .view-line`)].map((node) => (node.textContent || '').replace(/\u00a0/g, ' '));
      return shown.includes(want);
    }, [editorLines, text], { timeout: 15000 }).then(() => true).catch(() => false);
  }
  if (!check(box && renamed, 'F2 renames a task id and the depends_on entries naming it', `rename box: ${box}`)) {
    await screenshot('vscode-rename-failed.png');
  }
  await page.keyboard.press('Control+Z');
}

async function checkRestart() {
  await openFile(expected.file);
  await runPaletteCommand('UET: Restart server');
  // stopping the old server clears its diagnostics; the new one publishes them again
  const cleared = await page.waitForFunction(() => document.querySelectorAll('.part.editor .monaco-editor .squiggly-error').length === 0,
    null, { timeout: 15000, polling: 20 }).then(() => true).catch(() => false);
  const back = await page.waitForSelector('.part.editor .monaco-editor .squiggly-error', { timeout: 30000 }).catch(() => null);
  const running = await page.waitForFunction(() => [...document.querySelectorAll('.statusbar-item')].some((item) => /UET/.test(item.textContent || '') && !/loading/.test(item.innerHTML)), null, { timeout: 30000 }).then(() => true).catch(() => false);
  check(cleared && !!back && running, '"UET: Restart server" stops the server (diagnostics cleared) and starts a new one (diagnostics back)',
    JSON.stringify({ cleared, back: !!back, running }));
}

/** A folder without UET artifacts: the extension must not activate (no status bar item). */
async function checkNoActivation(folder) {
  await page.goto(folderUrl(folder));
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  await page.waitForSelector('.explorer-folders-view', { timeout: 30000 }).catch(() => {});
  await page.waitForTimeout(4000); // time enough for workspaceContains activation to happen
  const item = await page.$('.statusbar-item:has-text("UET")');
  check(!item, 'in a folder without UET artifacts the extension stays inactive');
  await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } }).catch(() => {});
  // the palette lists an inactive extension's commands once the extension host has read them
  // (late on a busy machine): open it again until the entry is there
  const ran = await until(() => runPaletteCommand('UET: Show server log'), 60000);
  const activated = ran && await page.waitForSelector('.statusbar-item:has-text("UET")', { timeout: 30000 }).then(() => true).catch(() => false);
  check(activated, 'a UET command activates it there (F1 "UET: Show server log")', JSON.stringify({ ran }));
}

/** uet.server.path points at nothing: an error with a "How to install" link. */
async function checkMissingServer(folder) {
  await page.goto(folderUrl(folder));
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  const toast = await page.waitForSelector('.notification-toast:has-text("UET language server not found")', { timeout: 30000 }).catch(() => null);
  check(!!toast, 'a missing server is reported: "UET language server not found …"');
  if (!toast) return;
  await screenshot('vscode-missing-server.png');
  const said = normalize(await toast.$eval('.notification-list-item-message', (node) => node.textContent || '').catch(() => ''));
  check(said.includes('Looked in: PATH of the editor ('), 'the message says where it looked for `uet` (the editor\'s PATH, .venv, ~/.local/bin)', said);
  const settingsButton = await toast.$('.monaco-button:has-text("Open Settings")');
  if (settingsButton) {
    await settingsButton.click();
    const row = await page.waitForSelector('.settings-editor .setting-item-contents:has-text("Server: Path"), .settings-editor .setting-item-contents:has-text("Path")', { timeout: 15000 }).catch(() => null);
    const none = await page.$('.settings-editor .no-results-message:visible');
    check(!!row && !none, '"Open Settings" opens the tab that holds uet.server.path (not "No Settings Found")');
    await screenshot('vscode-open-settings.png');
  }
  // a server command run without a server says the same, not "command not found"
  await clearNotifications();
  await runPaletteCommand('UET: Show schema for this file');
  const again = await page.waitForSelector('.notification-toast:has-text("UET language server not found")', { timeout: 15000 }).catch(() => null);
  check(!!again, 'without a server, a UET palette command repeats that message');
  if (!again) return;
  const button = await again.$('.monaco-button:has-text("How to install")');
  check(!!button, 'the message has a "How to install" button');
  if (!button) return;
  await button.click();
  const preview = await page.waitForSelector('.tab:has-text("README")', { timeout: 20000 }).catch(() => null);
  check(!!preview, '"How to install" opens the install instructions (the extension README)');
}

try {
  await openInvalidArtifact();
  await checkProblems();
  await diagnosticScreenshot();
  await checkHover();
  await checkCompletion();
  await checkQuickFix();
  await checkNavigation();
  const offered = await checkPalette();
  await checkShowSchema();
  await checkNoSettingsWarning();
  await checkRuns(offered);
  await checkOneRunAtATime();
  await checkRefusedRun();
  await checkRestart();
  await checkOutputChannel();
  if (process.env.UET_PROJECT_FOLDER) await checkBootstrapPreview(process.env.UET_PROJECT_FOLDER);
  if (process.env.UET_PLAIN_FOLDER) await checkNoActivation(process.env.UET_PLAIN_FOLDER);
  if (process.env.UET_NO_SERVER_FOLDER) await checkMissingServer(process.env.UET_NO_SERVER_FOLDER);
} catch (error) {
  failed.push('driver error');
  console.log(`FAIL: driver error: ${error && error.stack ? error.stack : error}`);
} finally {
  const file = await screenshot('vscode-final.png');
  note(`screenshots in ${path.dirname(file)}`);
  await browser.close();
}
console.log(`${passed} passed, ${failed.length} failed${pending.length ? `, ${pending.length} skipped` : ''}`);
process.exit(failed.length ? 1 : 0);
