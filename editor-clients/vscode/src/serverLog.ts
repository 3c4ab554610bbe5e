/**
 * The "UET Language Server" output channel as the user reads it. vscode-languageclient writes
 * two kinds of text into the channel it is given: the server's stderr (Python logging lines,
 * `2025-01-01 10:00:00,123 INFO uet.lsp: …`, a traceback after an ERROR line) and its own
 * messages (`[Error - 10:00:00 AM] …`), each with a timestamp of its own. A log output channel
 * adds its own timestamp and level to every line, so everything read as "[info]" with two
 * timestamps. `ServerLog` is the channel handed to the client: it parses those lines and
 * writes each record once, at its real level, with the channel's timestamp only; a traceback
 * stays with its record. A server that exits with code 0 (a stop or restart) is info, not an
 * error.
 */
import * as vscode from 'vscode';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const SERVER_LINE = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): (.*)$/;
const CLIENT_LINE = /^\[(Trace|Debug|Info|Warn|Error|LSP)\s*- [^\]]*\] ?(.*)$/;
const SERVER_LEVELS: Record<string, Level> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'error' };
const CLIENT_LEVELS: Record<string, Level> = { Trace: 'info', LSP: 'info', Debug: 'debug', Info: 'info', Warn: 'warn', Error: 'error' };
const NORMAL_EXIT = /^Server process exited with code 0\.?$/;
/** A record is written once no continuation line came for this long. */
const FLUSH_MS = 50;

export class ServerLog implements vscode.OutputChannel {
  readonly name: string;
  private partial = '';
  private record: { level: Level; lines: string[] } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly channel: vscode.LogOutputChannel) {
    this.name = channel.name;
  }

  append(value: string): void {
    const lines = (this.partial + value).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      this.take(line);
    }
    this.schedule();
  }

  appendLine(value: string): void {
    this.append(`${value}\n`);
  }

  replace(value: string): void {
    this.flush();
    this.channel.replace(value);
  }

  clear(): void {
    this.flush();
    this.channel.clear();
  }

  show(columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    if (typeof columnOrPreserveFocus === 'boolean' || columnOrPreserveFocus === undefined) {
      this.channel.show(columnOrPreserveFocus);
    } else {
      this.channel.show(columnOrPreserveFocus, preserveFocus);
    }
  }

  hide(): void {
    this.channel.hide();
  }

  dispose(): void {
    // the channel belongs to the extension, which disposes it; the client may dispose this one
    this.flush();
  }

  /** One line: the start of a record (server or client format) or a continuation. */
  private take(line: string): void {
    const server = SERVER_LINE.exec(line);
    if (server) {
      this.flush();
      const origin = server[2] === 'uet' || server[2].startsWith('uet.') ? '' : `${server[2]}: `;
      this.record = { level: SERVER_LEVELS[server[1]], lines: [`${origin}${server[3]}`] };
      return;
    }
    const client = CLIENT_LINE.exec(line);
    if (client) {
      this.flush();
      const text = client[2];
      this.record = { level: NORMAL_EXIT.test(text) ? 'info' : CLIENT_LEVELS[client[1]], lines: [text] };
      return;
    }
    if (this.record) {
      this.record.lines.push(line);
    } else if (line.trim()) {
      this.record = { level: 'info', lines: [line] };
    }
  }

  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.partial) {
        this.take(this.partial);
        this.partial = '';
      }
      this.flush();
    }, FLUSH_MS);
  }

  private flush(): void {
    const record = this.record;
    this.record = undefined;
    if (!record) {
      return;
    }
    while (record.lines.length > 1 && !record.lines[record.lines.length - 1].trim()) {
      record.lines.pop();
    }
    this.channel[record.level](record.lines.join('\n'));
  }
}
