/**
 * The status bar item: the server's state, the active profile (`uet/status`) and the current
 * run (`uet/runStatus`). Both notifications are read leniently (docs/lsp-extensions.md has
 * their shapes), so a field the server adds later never breaks the item.
 */
import * as vscode from 'vscode';

export type ServerState = 'starting' | 'running' | 'stopped' | 'missing';

type Fields = Record<string, unknown>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const ACTIVE_RUN_STATES = new Set(['pending', 'queued', 'running', 'started', 'cancelling', 'canceling']);

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('uet.status', vscode.StatusBarAlignment.Left, 10);
  private state: ServerState = 'starting';
  private profile: string | undefined;
  private run: Fields | undefined;

  constructor() {
    this.item.name = 'UET';
    this.render();
    this.item.show();
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  /** `uet/status`: `{ profile?: string | { id } , ... }`. */
  onStatus(params: unknown): void {
    const fields = (params ?? {}) as Fields;
    const profile = fields.profile ?? fields.profileId ?? fields.activeProfile;
    this.profile = text(profile) ?? text((profile as Fields | undefined)?.id) ?? this.profile;
    this.render();
  }

  /** `uet/runStatus`: `{ runId, workstreamId, workstreamName, state, total, succeeded, failed, ... }`. */
  onRunStatus(params: unknown): void {
    this.run = (params ?? {}) as Fields;
    this.render();
  }

  private render(): void {
    const parts: string[] = [];
    let icon = '$(checklist)';
    if (this.state === 'starting') {
      icon = '$(loading~spin)';
    } else if (this.state === 'stopped') {
      icon = '$(debug-disconnect)';
    } else if (this.state === 'missing') {
      icon = '$(warning)';
    }
    parts.push(this.profile ? `${icon} UET: ${this.profile}` : `${icon} UET`);
    const run = this.run;
    const runState = text(run?.state ?? run?.status);
    if (run && runState && ACTIVE_RUN_STATES.has(runState)) {
      const name = text(run.workstreamName) ?? text(run.workstreamId) ?? text(run.runId) ?? 'run';
      const finished = ['succeeded', 'failed', 'skipped', 'canceled']
        .map((key) => run[key])
        .filter((value): value is number => typeof value === 'number');
      const counts =
        typeof run.total === 'number' && finished.length > 0
          ? ` ${finished.reduce((sum, value) => sum + value, 0)}/${run.total}`
          : '';
      parts.push(`$(sync~spin) ${name}${counts}`);
    }
    this.item.text = parts.join('  ');
    const lines = [`UET language server: ${this.state === 'missing' ? 'not found' : this.state}`];
    if (this.profile) {
      lines.push(`Active profile: ${this.profile}`);
    }
    if (run && runState) {
      lines.push(`Last run: ${text(run.runId) ?? '?'} ${runState}`);
    }
    this.item.tooltip = lines.join('\n');
    this.item.command = this.state === 'missing' ? 'uet.showOutput' : 'uet.showMenu';
    this.item.backgroundColor =
      this.state === 'missing' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
