// The smallest VS Code client of yaml-language-server (bundled by benchmarks/editor_startup.py
// with esbuild): starts `yaml-language-server --stdio` for YAML files and forwards the `yaml`
// settings section, as the Red Hat YAML extension does, without the Marketplace.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

exports.activate = async () => {
  const command = vscode.workspace.getConfiguration('yamlProbe').get('serverPath');
  client = new LanguageClient('yamlProbe', 'yaml-language-server', { command, args: ['--stdio'] }, {
    documentSelector: [{ scheme: 'file', language: 'yaml' }],
    synchronize: { configurationSection: 'yaml' },
  });
  await client.start();
};

exports.deactivate = () => client?.stop();
