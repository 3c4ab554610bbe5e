/**
 * Finding the `uet serve` command line: the `uet.server.path` setting (a `uet` executable or
 * a Python interpreter), else `uet` on PATH, else a workspace `.venv`, else the interpreter
 * selected in the Python extension (`python -m uet serve`). Owns the "server not found"
 * message with its "how to install" link; never throws for a missing server.
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

/** The server command line, or a reason why none was found. */
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
  for (const workspaceFolder of vscode.workspace.workspaceFolders ?? []) {
    const local = venvUet(workspaceFolder);
    if (local) {
      return fromExecutable(local, `.venv of ${workspaceFolder.name}`);
    }
  }
  const interpreter = await pythonExtensionInterpreter(folder?.uri).catch(() => undefined);
  if (interpreter) {
    return { command: interpreter, args: ['-m', 'uet', 'serve'], origin: 'Python extension interpreter' };
  }
  return { missing: 'No `uet` command was found on PATH, in a workspace .venv, or in the selected Python interpreter.' };
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
    await vscode.commands.executeCommand('workbench.action.openSettings', 'uet.server.path');
  }
}
