/**
 * Server-created work-done progress. vscode-languageclient shows every server progress in the
 * status bar, where a Cancel button is only reachable by clicking the spinner. Workstream
 * runs (progress titled "UET: <workstream>") are shown instead as a notification with a
 * Cancel button that sends `window/workDoneProgress/cancel`; any other progress (indexing)
 * stays in the status bar.
 */
import * as vscode from 'vscode';
import {
  FeatureState,
  LanguageClient,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
  ProgressToken,
} from 'vscode-languageclient/node';

/** Progress titles of workstream runs start with this (see docs/lsp-extensions.md). */
export const RUN_TITLE_PREFIX = 'UET:';

class ProgressView {
  private reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  private finish: (() => void) | undefined;
  private reported = 0;
  private ended = false;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly client: LanguageClient,
    private readonly token: ProgressToken,
    private readonly forget: (view: ProgressView) => void,
  ) {
    this.subscription = client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === 'begin') {
        this.begin(value);
      } else if (value.kind === 'report') {
        this.report(value);
      } else {
        this.end();
      }
    });
  }

  private begin(value: WorkDoneProgressBegin): void {
    const isRun = value.title.startsWith(RUN_TITLE_PREFIX);
    const options: vscode.ProgressOptions = {
      location: isRun ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
      title: value.title,
      cancellable: value.cancellable === true,
    };
    void vscode.window.withProgress(options, (progress, cancellation) => {
      if (this.ended) {
        return Promise.resolve();
      }
      this.reporter = progress;
      cancellation.onCancellationRequested(() => {
        void this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token: this.token });
      });
      this.report(value);
      return new Promise<void>((resolve) => {
        this.finish = resolve;
      });
    });
  }

  private report(value: WorkDoneProgressBegin | WorkDoneProgressReport): void {
    if (!this.reporter) {
      return;
    }
    let increment: number | undefined;
    if (typeof value.percentage === 'number') {
      const percentage = Math.max(0, Math.min(100, value.percentage));
      increment = Math.max(0, percentage - this.reported);
      this.reported += increment;
    }
    this.reporter.report({ message: value.message, increment });
  }

  end(): void {
    this.ended = true;
    this.subscription.dispose();
    this.finish?.();
    this.forget(this);
  }
}

/** Take over `window/workDoneProgress/create` from the client's built-in progress feature. */
function handleServerProgress(client: LanguageClient): vscode.Disposable {
  const views = new Set<ProgressView>();
  const forget = (view: ProgressView) => views.delete(view);
  const handler = client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    views.add(new ProgressView(client, token, forget));
  });
  return new vscode.Disposable(() => {
    handler.dispose();
    for (const view of [...views]) {
      view.end();
    }
  });
}

/**
 * Registered with `client.registerFeature` after the built-in features, so its `initialize`
 * (at every start, also the client's own restarts after a crash) runs after the built-in
 * progress feature's and its request handler is the one that stays.
 */
export class RunProgressFeature implements StaticFeature {
  private handler: vscode.Disposable | undefined;

  constructor(private readonly client: LanguageClient) {}

  fillClientCapabilities(): void {
    // the built-in progress feature already advertises window.workDoneProgress
  }

  initialize(): void {
    this.handler?.dispose();
    this.handler = handleServerProgress(this.client);
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    this.handler?.dispose();
    this.handler = undefined;
  }
}
