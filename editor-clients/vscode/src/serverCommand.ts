/**
 * Finding the `uet serve` command line: the `uet.server.path` setting (a `uet` executable or
 * a Python interpreter), else `uet` on PATH, else a workspace `.venv`, else the user's own
 * script folders (`~/.local/bin`, where pip --user and pipx put `uet`: the extension host's
 * PATH comes from the login shell, not from the terminal that started the editor), else the
 * interpreter selected in the Python extension (`python -m uet serve`). Owns the "server not
 * found" message, which says where it looked, with its "how to install" link and an "Open
 * Settings" button that opens the settings tab where `uet.server.path` is (or can be) set;
 * never throws for a missing server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';

export interface ServerCommand {
  command: string;
  args: string[];
  /** How the command was found, for the output channel. */
  origin: string;
}

const PYTHON_NAME = /^python(\d+(\.\d+)*)?(\.exe)?$/i;
const IS_WINDOWS = process.platform === 'win32';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `uet` (or `uet.exe`) on PATH, like `which`. */
function onPath(name: string): string | undefined {
  const names = IS_WINDOWS ? [`${name}.exe`, `${name}.cmd`, name] : [name];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const candidate of names) {
      const file = path.join(dir, candidate);
      if (dir && isExecutable(file)) {
        return file;
      }
    }
  }
  return undefined;
}

function expand(value: string, folder: vscode.WorkspaceFolder | undefined): string {
  let expanded = value.replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '');
  if (expanded === '~' || expanded.startsWith('~/')) {
    expanded = path.join(os.homedir(), expanded.slice(1));
  }
  return expanded;
}

function fromExecutable(file: string, origin: string): ServerCommand {
  return PYTHON_NAME.test(path.basename(file))
    ? { command: file, args: ['-m', 'uet', 'serve'], origin }
    : { command: file, args: ['serve'], origin };
}

function venvUet(folder: vscode.WorkspaceFolder): string | undefined {
  const file = IS_WINDOWS
    ? path.join(folder.uri.fsPath, '.venv', 'Scripts', 'uet.exe')
    : path.join(folder.uri.fsPath, '.venv', 'bin', 'uet');
  return isExecutable(file) ? file : undefined;
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment?(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } | undefined;
  };
}

/** The interpreter selected in the Python extension, if it is installed and has uet. */
async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!extension) {
    return undefined;
  }
  const api = extension.isActive ? extension.exports : await extension.activate();
  let interpreter: string | undefined;
  const active = api?.environments?.getActiveEnvironmentPath?.(resource);
  if (active && api.environments?.resolveEnvironment) {
    const resolved = await api.environments.resolveEnvironment(active);
    interpreter = resolved?.executable?.uri?.fsPath ?? active.path;
  }
  interpreter ??= api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  if (!interpreter) {
    return undefined;
  }
  const probe = spawnSync(interpreter, ['-c', 'import uet.cli.main'], { timeout: 10000, stdio: 'ignore' });
  return probe.status === 0 ? interpreter : undefined;
}

/** Folders of the user's own scripts that a login shell's PATH may lack. */
function userScriptFolders(): string[] {
  return IS_WINDOWS ? [] : [path.join(os.homedir(), '.local', 'bin')];
}

/** The server command line, or a reason why none was found (saying where it looked). */
export async function findServer(
  folder: vscode.WorkspaceFolder | undefined,
): Promise<ServerCommand | { missing: string }> {
  const configured = vscode.workspace.getConfiguration('uet', folder).get<string>('server.path', '').trim();
  if (configured) {
    const file = expand(configured, folder);
    if (isExecutable(file)) {
      return fromExecutable(file, 'setting uet.server.path');
    }
    const found = !path.isAbsolute(file) ? onPath(file) : undefined;
    if (found) {
      return fromExecutable(found, `setting uet.server.path (${file} on PATH)`);
    }
    return { missing: `uet.server.path is set to "${configured}", which is not an executable file.` };
  }
  const uet = onPath('uet');
  if (uet) {
    return fromExecutable(uet, 'uet on PATH');
  }
  const folders = vscode.workspace.workspaceFolders ?? [];
  for (const workspaceFolder of folders) {
    const local = venvUet(workspaceFolder);
    if (local) {
      return fromExecutable(local, `.venv of ${workspaceFolder.name}`);
    }
  }
  for (const dir of userScriptFolders()) {
    const file = path.join(dir, 'uet');
    if (isExecutable(file)) {
      return fromExecutable(file, `${dir} (not on the editor's PATH)`);
    }
  }
  const interpreter = await pythonExtensionInterpreter(folder?.uri).catch(() => undefined);
  if (interpreter) {
    return { command: interpreter, args: ['-m', 'uet', 'serve'], origin: 'Python extension interpreter' };
  }
  const searched = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const venvs = folders.map((item) => path.join(item.uri.fsPath, '.venv', IS_WINDOWS ? 'Scripts' : 'bin'));
  const places = [
    `PATH of the editor (${searched.length ? searched.join(path.delimiter) : 'empty'})`,
    ...venvs,
    ...userScriptFolders(),
    vscode.extensions.getExtension('ms-python.python') ? 'the Python extension\'s interpreter' : undefined,
  ].filter((place): place is string => !!place);
  return { missing: `No \`uet\` command was found. Looked in: ${places.join('; ')}.` };
}

/**
 * Open the settings editor on `uet.server.path`, in the tab where it is set: the folder's or
 * the workspace's settings when set there; otherwise the remote machine's settings in a
 * remote window (code-server: the User tab cannot show a machine setting), else the user's.
 */
export async function openServerPathSetting(folder: vscode.WorkspaceFolder | undefined): Promise<void> {
  const query = { query: 'uet.server.path' };
  const where = vscode.workspace.getConfiguration('uet', folder).inspect<string>('server.path');
  if (where?.workspaceFolderValue !== undefined && folder && (vscode.workspace.workspaceFolders?.length ?? 0) > 1) {
    await vscode.commands.executeCommand('workbench.action.openFolderSettings', { ...query, folderUri: folder.uri });
  } else if (where?.workspaceValue !== undefined || where?.workspaceFolderValue !== undefined) {
    await vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', query);
  } else if (vscode.env.remoteName) {
    await vscode.commands.executeCommand('workbench.action.openRemoteSettings', query);
  } else {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'uet.server.path');
  }
}

/** Tell the user the server is missing, with a link to the install instructions. */
export async function showMissingServer(reason: string, extensionUri: vscode.Uri): Promise<void> {
  const install = 'How to install';
  const settings = 'Open Settings';
  const choice = await vscode.window.showErrorMessage(
    `UET language server not found. ${reason} Install it with "pip install uet-lsp" (or pipx), or set uet.server.path.`,
    install,
    settings,
  );
  if (choice === install) {
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(extensionUri, 'README.md'));
  } else if (choice === settings) {
    await openServerPathSetting(vscode.workspace.workspaceFolders?.[0]);
  }
}
