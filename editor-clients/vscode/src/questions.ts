/**
 * Questions from the server (`window/showMessageRequest`: "Trust and run", "already running",
 * which workstream, which profile). vscode-languageclient shows them as ordinary
 * notifications, which VS Code moves into the notification bell after a few seconds: the
 * question seems gone, the request stays open, and the next click asks again. Here a question
 * with a few answers is a modal dialog (it cannot be missed and nothing else can be clicked
 * meanwhile), one with many answers a quick pick that stays open when the focus moves.
 * Dismissing either answers `null`, as the protocol says.
 */
import * as vscode from 'vscode';
import {
  FeatureState,
  LanguageClient,
  MessageActionItem,
  MessageType,
  ShowMessageRequest,
  ShowMessageRequestParams,
  StaticFeature,
} from 'vscode-languageclient/node';

/** More answers than this are offered as a quick pick (dialog buttons do not wrap). */
const MAX_DIALOG_BUTTONS = 3;

export async function ask(params: ShowMessageRequestParams): Promise<MessageActionItem | null> {
  const actions = params.actions ?? [];
  if (actions.length > MAX_DIALOG_BUTTONS) {
    const picked = await vscode.window.showQuickPick(
      actions.map((action) => ({ label: action.title, action })),
      { title: 'UET', placeHolder: params.message, ignoreFocusOut: true },
    );
    return picked?.action ?? null;
  }
  const show =
    params.type === MessageType.Error
      ? vscode.window.showErrorMessage
      : params.type === MessageType.Warning
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  const chosen = await show(params.message, { modal: actions.length > 0 }, ...actions);
  return chosen ?? null;
}

/**
 * Registered with `client.registerFeature`: its `initialize` runs at every start after the
 * client registered its own `window/showMessageRequest` handler, so this one replaces it.
 */
export class QuestionFeature implements StaticFeature {
  private handler: vscode.Disposable | undefined;

  constructor(private readonly client: LanguageClient) {}

  fillClientCapabilities(): void {
    // the client already advertises window.showMessage
  }

  initialize(): void {
    this.handler?.dispose();
    this.handler = this.client.onRequest(ShowMessageRequest.type, ask);
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    this.handler?.dispose();
    this.handler = undefined;
  }
}
