/**
 * The VS Code client of uet-lsp: starts `uet serve` over stdio (one server per window, every
 * workspace folder), wires settings, workspace trust, progress, the status bar and the "UET"
 * palette commands. The language features themselves (diagnostics, hover, completion, quick
 * fixes, symbols, navigation) are plain LSP and need no code here.
 */
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';
import { PaletteCommands, executeCommandMiddleware, runServerCommand, SERVER_PALETTE_COMMANDS } from './commands';
import { RunProgressFeature } from './progress';
import { QuestionFeature } from './questions';
import { ServerLog } from './serverLog';
import { findServer, showMissingServer } from './serverCommand';
import { configurationMiddleware, initializationOptions, sectionFor } from './settings';
import { StatusItem } from './status';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let status: StatusItem;
let palette: PaletteCommands;
let starting: Promise<void> | undefined;

const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'yaml' },
  { scheme: 'file', language: 'json' },
  { scheme: 'file', language: 'jsonc' },
];

async function createClient(context: vscode.ExtensionContext): Promise<LanguageClient | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const server = await findServer(folder);
  if ('missing' in server) {
    output.error(server.missing);
    status.setState('missing');
    const explain = () => void showMissingServer(server.missing, context.extensionUri);
    palette.serverMissing(explain);
    explain();
    return undefined;
  }
  output.info(`starting ${server.command} ${server.args.join(' ')} (${server.origin})`);
  const serverOptions: ServerOptions = {
    command: server.command,
    args: server.args,
    // no `transport`: TransportKind.stdio would add a `--stdio` argument that `uet serve` rejects
    options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    // the server's log lines and the client's messages, each once at its own level
    outputChannel: new ServerLog(output),
    initializationOptions: initializationOptions(),
    middleware: {
      executeCommand: executeCommandMiddleware(() => client),
      workspace: { configuration: configurationMiddleware },
    },
  };
  const created = new LanguageClient('uet', 'UET Language Server', serverOptions, clientOptions);
  created.onDidChangeState(({ newState }) => {
    if (newState === State.Starting) {
      palette.serverStarting();
      status.setState('starting');
    } else if (newState === State.Running) {
      palette.serverRunning(created);
      status.setState('running');
    } else {
      palette.serverStarting();
      status.setState('stopped');
    }
  });
  created.registerFeature(new RunProgressFeature(created));
  created.registerFeature(new QuestionFeature(created));
  created.onNotification('uet/status', (params: unknown) => status.onStatus(params));
  created.onNotification('uet/runStatus', (params: unknown) => status.onRunStatus(params));
  return created;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  client = await createClient(context);
  if (!client) {
    return;
  }
  try {
    await client.start();
  } catch (error) {
    output.error(`the UET language server failed to start: ${String(error)}`);
    status.setState('stopped');
    void vscode.window.showErrorMessage(`UET language server failed to start: ${String(error)}`, 'Show Log').then(
      (choice) => choice && output.show(),
    );
  }
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  const previous = client;
  client = undefined;
  if (previous) {
    await previous.stop().catch((error: unknown) => output.warn(`stopping the server: ${String(error)}`));
    await previous.dispose().catch(() => undefined);
  }
  palette.serverStarting();
  await start(context);
}

/** Settings changed: restart for a new server path, otherwise tell the running server. */
function onConfigurationChanged(context: vscode.ExtensionContext, event: vscode.ConfigurationChangeEvent): void {
  if (event.affectsConfiguration('uet.server')) {
    void restart(context);
    return;
  }
  if (event.affectsConfiguration('uet') && client?.isRunning()) {
    // the server re-pulls workspace/configuration (through the middleware above)
    void client.sendNotification('workspace/didChangeConfiguration', {
      settings: { uet: sectionFor(vscode.workspace.workspaceFolders?.[0]) },
    });
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('UET Language Server', { log: true });
  status = new StatusItem();
  palette = new PaletteCommands();
  context.subscriptions.push(output, status, palette);
  context.subscriptions.push(
    vscode.commands.registerCommand('uet.restartServer', () => restart(context)),
    vscode.commands.registerCommand('uet.showOutput', () => output.show()),
    vscode.commands.registerCommand('uet.runServerCommand', () => runServerCommand(client)),
    vscode.commands.registerCommand('uet.showMenu', () => showMenu()),
    vscode.workspace.onDidChangeConfiguration((event) => onConfigurationChanged(context, event)),
    // trust granted: a new server gets workspaceTrusted: true and the real uet.trustedWorkspace
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart(context)),
  );
  output.info(`workspace trusted: ${vscode.workspace.isTrusted}`);
  starting = start(context);
  await starting;
}

async function showMenu(): Promise<void> {
  const offered = new Set(client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? []);
  const items = [
    ...Object.entries(SERVER_PALETTE_COMMANDS)
      .filter(([command]) => offered.has(command))
      .map(([command, title]) => ({ label: title, command })),
    { label: 'Run server command…', command: 'uet.runServerCommand' },
    { label: 'Restart server', command: 'uet.restartServer' },
    { label: 'Show server log', command: 'uet.showOutput' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'UET' });
  if (picked) {
    await vscode.commands.executeCommand(picked.command);
  }
}

export async function deactivate(): Promise<void> {
  await starting?.catch(() => undefined);
  if (client) {
    await client.stop().catch(() => undefined);
  }
}
