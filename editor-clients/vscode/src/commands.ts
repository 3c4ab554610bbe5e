/**
 * The "UET" commands of the command palette.
 *
 * vscode-languageclient registers every command the server lists in `executeCommandProvider`
 * as a VS Code command of the same id, so the palette entries for server commands use those
 * ids and this module registers none of them itself (a second registration fails with
 * "command already exists"). When such a command comes from the palette it has no
 * arguments: the `executeCommand` middleware fills them from the editor (current file, task
 * under the cursor) and renders the result. Palette entries the running server does not offer
 * are hidden through `uet.offers.<name>` context keys, and get a stub that explains why when
 * they are run before the server started.
 *
 * A command the server refuses (`RequestFailed`: a run that cannot start) was explained by the
 * server's own message; the middleware adds no second one ("Request … failed", "Running the
 * contributed command … failed"). "UET: Bootstrap workspace" from the palette first shows
 * what it would write (`uet.previewBootstrap`: every file and what happens to it, each file's
 * text on request) and writes only when the user applies it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, LSPErrorCodes, ResponseError } from 'vscode-languageclient/node';

/** Palette commands the server implements (ids as the server lists them). */
export const SERVER_PALETTE_COMMANDS: Record<string, string> = {
  'uet.validateWorkspace': 'Validate workspace',
  'uet.selectProfile': 'Select profile',
  'uet.bootstrap': 'Bootstrap workspace',
  'uet.runWorkstream': 'Run workstream',
  'uet.runTask': 'Run task',
  'uet.cancelRun': 'Cancel run',
  'uet.resumeRun': 'Resume run',
  'uet.listRuns': 'Show runs',
  'uet.openLog': 'Open log',
  'uet.showSchema': 'Show schema for this file',
};

type Args = unknown[];

function activeDocument(): vscode.TextDocument | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document && (document.uri.scheme === 'file' || document.uri.scheme === 'untitled') ? document : undefined;
}

async function schemaOf(client: LanguageClient, document: vscode.TextDocument): Promise<string | undefined> {
  try {
    const answer = await client.sendRequest<{ schema?: string | null }>('uet/schemaForDocument', {
      textDocument: { uri: document.uri.toString() },
    });
    return answer?.schema ?? undefined;
  } catch {
    return undefined;
  }
}

interface TaskChoice {
  label: string;
  description: string;
  range: vscode.Range;
}

const TASK_ID = /task_id["']?\s*:\s*["']?([\w.-]+)/g;

/**
 * The tasks of a workstream document: the server's document symbols whose text holds exactly
 * one `task_id` (symbol names are task names; the id is read from the text).
 */
async function tasksOf(document: vscode.TextDocument): Promise<TaskChoice[]> {
  const symbols =
    (await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[]>(
      'vscode.executeDocumentSymbolProvider',
      document.uri,
    )) ?? [];
  const tasks: TaskChoice[] = [];
  const walk = (items: (vscode.DocumentSymbol | vscode.SymbolInformation)[]) => {
    for (const symbol of items) {
      const range = 'range' in symbol ? symbol.range : symbol.location.range;
      const ids = [...document.getText(range).matchAll(TASK_ID)].map((match) => match[1]);
      if (ids.length === 1) {
        tasks.push({ label: ids[0], description: symbol.name, range });
      }
      walk('children' in symbol ? symbol.children : []);
    }
  };
  walk(symbols);
  return tasks;
}

async function taskArguments(client: LanguageClient): Promise<Args | undefined> {
  const document = activeDocument();
  if (!document || (await schemaOf(client, document)) !== 'workstream_spec') {
    void vscode.window.showWarningMessage('UET: open a workstream file and put the cursor on a task to run it.');
    return undefined;
  }
  const tasks = await tasksOf(document);
  const cursor = vscode.window.activeTextEditor?.selection.active;
  const underCursor = cursor ? tasks.find((task) => task.range.contains(cursor)) : undefined;
  const chosen =
    underCursor ??
    (await vscode.window.showQuickPick(tasks, { title: 'UET: Run task', placeHolder: 'Task to run (with what it depends on)' }));
  return chosen ? [document.uri.toString(), chosen.label] : undefined;
}

/** Arguments for a server command run from the palette; undefined = the user gave up. */
export async function paletteArguments(client: LanguageClient, command: string): Promise<Args | undefined> {
  const document = activeDocument();
  switch (command) {
    case 'uet.showSchema':
      if (!document) {
        void vscode.window.showWarningMessage('UET: open a JSON or YAML file first.');
        return undefined;
      }
      return [document.uri.toString()];
    case 'uet.runWorkstream':
      // this file when it is a workstream; otherwise the server asks which one
      return document && (await schemaOf(client, document)) === 'workstream_spec' ? [document.uri.toString()] : [];
    case 'uet.runTask':
      return taskArguments(client);
    case 'uet.resumeRun':
    case 'uet.openLog': {
      // both need a run: offer the recent ones
      const title = command === 'uet.resumeRun' ? 'UET: Resume run' : 'UET: Open log';
      const runId = await chooseRun(await recentRuns(client), title);
      return runId ? [runId] : undefined;
    }
    default:
      return [];
  }
}

/** A row of `uet.listRuns` (docs/lsp-extensions.md). */
interface RunSummary {
  runId?: string;
  state?: string;
  workstreamId?: string;
  startedAt?: string | null;
  createdAt?: string | null;
  totalTasks?: number;
  active?: boolean;
}

/** Let the user pick one of `runs`; resolves to its id. */
async function chooseRun(runs: RunSummary[], title: string): Promise<string | undefined> {
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('UET: no runs yet.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: String(run.workstreamId ?? run.runId ?? 'run'),
      description: `${run.state ?? ''}${run.active ? ' (active)' : ''}`,
      detail: [run.runId, run.startedAt ?? run.createdAt, typeof run.totalTasks === 'number' ? `${run.totalTasks} tasks` : '']
        .filter(Boolean)
        .join(' · '),
      runId: run.runId,
    })),
    { title, placeHolder: 'Pick a run' },
  );
  return picked?.runId;
}

/** The recent runs, straight from the server (not through the palette middleware). */
async function recentRuns(client: LanguageClient): Promise<RunSummary[]> {
  const result = await client.sendRequest(ExecuteCommandRequest.type, { command: 'uet.listRuns', arguments: [] });
  return Array.isArray(result) ? (result as RunSummary[]) : [];
}

async function showRuns(result: unknown): Promise<void> {
  const runId = await chooseRun(Array.isArray(result) ? (result as RunSummary[]) : [], 'UET: Runs');
  if (!runId) {
    return;
  }
  const actions = [
    { label: 'Open log', command: 'uet.openLog' },
    { label: 'Cancel run', command: 'uet.cancelRun' },
    { label: 'Resume run', command: 'uet.resumeRun' },
  ];
  const action = await vscode.window.showQuickPick(actions, { title: `UET: run ${runId}` });
  if (action) {
    await vscode.commands.executeCommand(action.command, runId);
  }
}

/** Commands that show their own outcome with `window/showMessage`. */
const SERVER_SHOWS_OUTCOME = new Set(['uet.showSchema', 'uet.bootstrap', 'uet.selectProfile']);

/** Show what a server command returned, for the commands whose result means something. */
export async function renderResult(command: string, result: unknown): Promise<void> {
  if (result === undefined || result === null || SERVER_SHOWS_OUTCOME.has(command)) {
    return;
  }
  if (command === 'uet.listRuns') {
    await showRuns(result);
  } else if (typeof result === 'string') {
    void vscode.window.showInformationMessage(result);
  } else if (typeof (result as { message?: unknown }).message === 'string') {
    void vscode.window.showInformationMessage((result as { message: string }).message);
  }
}

/** `workspace/executeCommand`, straight to the server; a refusal the server explained is `undefined`. */
async function execute(client: LanguageClient, command: string, args: Args): Promise<unknown> {
  try {
    return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  } catch (error) {
    if (error instanceof ResponseError && error.code === LSPErrorCodes.RequestFailed) {
      return undefined; // the server showed why (one message) and logged it
    }
    if (error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled) {
      return undefined;
    }
    return client.handleFailedRequest(ExecuteCommandRequest.type, undefined, error, undefined);
  }
}

/** The `executeCommand` middleware: palette arguments in, rendered results out. */
export function executeCommandMiddleware(getClient: () => LanguageClient | undefined) {
  return async (command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown) => {
    const client = getClient();
    if (!client) {
      return next(command, args);
    }
    let filled: Args | undefined = args;
    if (args.length === 0) {
      if (command === 'uet.bootstrap' && offeredCommands(client).includes('uet.previewBootstrap')) {
        return bootstrapWithPreview(client);
      }
      filled = await paletteArguments(client, command);
      if (filled === undefined) {
        return undefined;
      }
    }
    const result = await execute(client, command, filled);
    await renderResult(command, result);
    return result;
  };
}

/** A file of `uet.previewBootstrap` (docs/lsp-extensions.md). */
interface PreviewFile {
  path: string;
  action: string;
  text: string | null;
}

interface Preview {
  workspaceFolder?: string;
  profileId?: string;
  ambiguous?: boolean;
  profiles?: { profileId: string; score?: number; summary?: string }[];
  ok?: boolean;
  problems?: unknown[];
  files?: PreviewFile[];
  message?: string;
  apply?: { title: string; command: string; arguments?: unknown[] };
}

const WRITES = new Set(['create', 'update', 'overwrite']);
const ACTION_LABELS: Record<string, string> = {
  create: 'new file',
  update: 'changed',
  overwrite: 'replaced',
  keep: 'kept (you changed it)',
  unchanged: 'unchanged',
};

async function chooseFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) {
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to bootstrap' });
}

async function preview(client: LanguageClient, profileId: string | null, folder: vscode.WorkspaceFolder): Promise<Preview | undefined> {
  const result = await execute(client, 'uet.previewBootstrap', [profileId, folder.uri.toString()]);
  return result && typeof result === 'object' ? (result as Preview) : undefined;
}

/**
 * "UET: Bootstrap workspace": the profile (asked when the ranking is ambiguous), then the
 * preview as a quick pick — an "Apply" entry, then every file with what happens to it;
 * picking a file opens its new text beside — and only "Apply" writes (`uet.bootstrap`, one
 * workspace edit the editor can undo).
 */
async function bootstrapWithPreview(client: LanguageClient): Promise<unknown> {
  const folder = await chooseFolder();
  if (!folder) {
    void vscode.window.showWarningMessage('UET: open a folder to bootstrap.');
    return undefined;
  }
  let plan = await preview(client, null, folder);
  if (!plan) {
    return undefined;
  }
  const profiles = plan.profiles ?? [];
  if (plan.ambiguous && profiles.length > 1) {
    const picked = await vscode.window.showQuickPick(
      profiles.map((profile) => ({ label: profile.profileId, description: profile.summary ?? '' })),
      { title: `UET: Bootstrap ${folder.name}`, placeHolder: 'Profile to bootstrap with', ignoreFocusOut: true },
    );
    if (!picked) {
      return undefined;
    }
    if (picked.label !== plan.profileId) {
      plan = await preview(client, picked.label, folder);
      if (!plan) {
        return undefined;
      }
    }
  }
  const files = plan.files ?? [];
  const writes = files.filter((file) => WRITES.has(file.action));
  if (plan.ok === false || !plan.apply || writes.length === 0) {
    const show = plan.ok === false ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
    void show(plan.message ?? 'UET: nothing to bootstrap.');
    return plan;
  }
  type Item = vscode.QuickPickItem & { file?: PreviewFile; apply?: boolean };
  const items: Item[] = [
    { label: `$(check) Write ${writes.length} file(s)`, description: `as ${plan.profileId ?? 'profile'}`, detail: plan.message, apply: true },
    { label: 'What it writes (pick a file to see its text)', kind: vscode.QuickPickItemKind.Separator },
    ...writes.map((file) => ({ label: file.path, description: ACTION_LABELS[file.action] ?? file.action, file })),
  ];
  const left = files.filter((file) => !WRITES.has(file.action));
  if (left.length > 0) {
    items.push({ label: 'Left alone', kind: vscode.QuickPickItemKind.Separator });
    items.push(...left.map((file) => ({ label: file.path, description: ACTION_LABELS[file.action] ?? file.action, file })));
  }
  for (;;) {
    const picked = await vscode.window.showQuickPick(items, {
      title: `UET: Bootstrap ${folder.name} as ${plan.profileId ?? '?'} — preview`,
      placeHolder: 'Nothing is written until you pick "Write"; Escape cancels',
      ignoreFocusOut: true,
      matchOnDescription: true,
    });
    if (!picked) {
      void vscode.window.showInformationMessage('UET: bootstrap canceled; nothing was written.');
      return undefined;
    }
    if (picked.apply) {
      return execute(client, plan.apply.command, plan.apply.arguments ?? []);
    }
    if (picked.file?.text !== null && picked.file?.text !== undefined) {
      const document = await vscode.workspace.openTextDocument({
        content: picked.file.text,
        language: languageOf(picked.file.path),
      });
      await vscode.window.showTextDocument(document, { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside });
    }
  }
}

function languageOf(file: string): string {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.json') return 'json';
  if (extension === '.md') return 'markdown';
  return 'plaintext';
}

/** The commands the running server offers. */
export function offeredCommands(client: LanguageClient | undefined): string[] {
  return client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
}

/**
 * Context keys and stubs for the palette entries. Call `serverStarting` before a (re)start
 * (the client registers the server's commands during start, so stubs must be gone by then)
 * and `serverRunning` once the server answered `initialize`.
 */
export class PaletteCommands implements vscode.Disposable {
  private stubs: vscode.Disposable[] = [];

  serverStarting(): void {
    this.disposeStubs();
    void vscode.commands.executeCommand('setContext', 'uet.serverRunning', false);
  }

  serverRunning(client: LanguageClient): void {
    this.disposeStubs();
    const offered = new Set(offeredCommands(client));
    for (const [command, title] of Object.entries(SERVER_PALETTE_COMMANDS)) {
      const key = `uet.offers.${command.slice('uet.'.length)}`;
      void vscode.commands.executeCommand('setContext', key, offered.has(command));
      if (!offered.has(command)) {
        this.stubs.push(
          vscode.commands.registerCommand(command, () => {
            const version = client.initializeResult?.serverInfo?.version ?? 'unknown';
            void vscode.window.showWarningMessage(
              `UET: "${title}" is not offered by this uet-lsp server (version ${version}). Update uet-lsp.`,
            );
          }),
        );
      }
    }
    void vscode.commands.executeCommand('setContext', 'uet.serverRunning', true);
  }

  /** No server could be started: every server command explains that instead. */
  serverMissing(explain: () => void): void {
    this.disposeStubs();
    for (const command of Object.keys(SERVER_PALETTE_COMMANDS)) {
      this.stubs.push(vscode.commands.registerCommand(command, explain));
    }
  }

  private disposeStubs(): void {
    for (const stub of this.stubs) {
      stub.dispose();
    }
    this.stubs = [];
  }

  dispose(): void {
    this.disposeStubs();
  }
}

/** "UET: Run server command…": every command the server lists, palette entry or not. */
export async function runServerCommand(client: LanguageClient | undefined): Promise<void> {
  const commands = offeredCommands(client);
  if (commands.length === 0) {
    void vscode.window.showWarningMessage('UET: the language server is not running or offers no commands.');
    return;
  }
  const picked = await vscode.window.showQuickPick(
    commands.map((command) => ({ label: SERVER_PALETTE_COMMANDS[command] ?? command, description: command })),
    { title: 'UET: Run server command', placeHolder: 'Command to run' },
  );
  if (picked) {
    await vscode.commands.executeCommand(picked.description);
  }
}
