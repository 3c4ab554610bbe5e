/**
 * The `uet` settings as the server sees them. The `uet` section also holds client-only
 * settings (`uet.server.*`, `uet.trace.*`) that the server's settings model does not know, so
 * they are removed before anything reaches the server. Workspace trust is enforced here: in an
 * untrusted workspace `trustedWorkspace` is always false, whatever the settings say, so the
 * server never runs anything there.
 */
import * as vscode from 'vscode';
import { ConfigurationRequest } from 'vscode-languageclient/node';

/** Keys of the `uet` section that only the extension reads. */
export const CLIENT_ONLY_KEYS = ['server', 'trace'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function plain(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

/** A `uet` section (or null) made fit for the server. */
export function forServer(section: unknown): Json {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    return vscode.workspace.isTrusted ? plain(section) : { trustedWorkspace: false };
  }
  const copy = plain(section) as { [key: string]: Json };
  for (const key of CLIENT_ONLY_KEYS) {
    delete copy[key];
  }
  if (!vscode.workspace.isTrusted) {
    copy.trustedWorkspace = false;
  }
  return copy;
}

/** The `uet` section of a scope (a folder, or the window when undefined), for the server. */
export function sectionFor(scope: vscode.ConfigurationScope | undefined): Json {
  const config = vscode.workspace.getConfiguration('uet', scope);
  const names = Object.keys(
    (vscode.extensions.getExtension('uet-lsp.uet-lsp')?.packageJSON?.contributes?.configuration?.properties ??
      {}) as Record<string, unknown>,
  );
  const section: { [key: string]: Json } = {};
  for (const name of names) {
    const key = name.slice('uet.'.length);
    if (!key.includes('.')) {
      section[key] = plain(config.get(key));
    }
  }
  return forServer(section);
}

/**
 * `initializationOptions`: the window's settings, and VS Code's own trust signal. The server
 * reads the `uet` object (and ignores other keys); `workspaceTrusted: false` tells it that the
 * editor runs in restricted mode, so it must neither run anything nor ask whether it may.
 */
export function initializationOptions(): { uet: Json; workspaceTrusted: boolean } {
  return { uet: sectionFor(vscode.workspace.workspaceFolders?.[0]), workspaceTrusted: vscode.workspace.isTrusted };
}

/** Middleware for `workspace/configuration`: strip client-only keys, apply workspace trust. */
export const configurationMiddleware: ConfigurationRequest.MiddlewareSignature = async (params, token, next) => {
  const answers = await next(params, token);
  if (!Array.isArray(answers)) {
    return answers;
  }
  return answers.map((answer: unknown, index: number) =>
    params.items[index]?.section === 'uet' ? forServer(answer) : answer,
  );
};
