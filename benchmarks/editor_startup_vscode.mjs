// One start-up measurement in VS Code (code-server + headless Chromium, as the editor suite
// editor-clients/vscode/test/drive.mjs drives it) for benchmarks/editor_startup.py: load the
// workbench of FOLDER with FILE opened as the window loads (the `openFile` payload, as a
// restored editor is), and wait for the file's first error squiggle and its Problems count.
// Usage: node editor_startup_vscode.mjs BASE_URL FOLDER FILE   (UET_NODE_MODULES: where
// playwright-core is; CHROMIUM: the browser). Prints one JSON line of milliseconds since the
// page load began: workbench shown, editor text shown, first squiggle, status bar error count
// (and when the page load began, to line up with code-server's logs).
import { createRequire } from 'node:module';

const [baseUrl, folder, file] = process.argv.slice(2);
const require = createRequire(`${process.env.UET_NODE_MODULES}/`);
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // the flags of the editor suite: no sandbox as root, nothing but loopback
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const authority = new URL(baseUrl).host;
  const payload = JSON.stringify([['openFile', `vscode-remote://${authority}${file}`]]);
  const url = `${baseUrl}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`;
  const t0 = Date.now();
  result.started_at = new Date(t0).toISOString(); // to line up with code-server's logs
  const since = () => Date.now() - t0;
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  result.workbench_ms = since();
  await page.waitForSelector('.part.editor .monaco-editor .view-lines', { timeout: 60000 });
  result.editor_ms = since();
  await page.waitForSelector('.part.editor .monaco-editor .squiggly-error', { timeout: 60000 });
  result.squiggle_ms = since();
  // the status bar's problems item says "Errors: N" (its aria-label) once the markers are in
  await page.waitForFunction(() => /Errors: [1-9]/.test(document.getElementById('status.problems')
    ?.getAttribute('aria-label') || ''), null, { timeout: 30000 });
  result.problems_ms = since();
} catch (error) {
  result.error = String(error).split('\n')[0];

} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.error ? 1 : 0);
