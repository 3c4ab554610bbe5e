-- uet.config: the options of require("uet").setup(), their defaults and their validation.
--
-- One table holds every option with its default; setup() merges the user's table over it
-- once, and the other modules read the merged result through config.get(). Nothing else
-- keeps option defaults.
local M = {}

---@class UetOptions
M.defaults = {
  -- argv of the language server, or a function(root_dir) returning one. nil: `uet serve`
  -- when `uet` is on $PATH, else <root>/.venv/bin/uet, else a message (see :help uet-install).
  cmd = nil,
  -- filetypes whose buffers may be UET artifacts (the server decides which files are).
  filetypes = { 'yaml', 'json', 'jsonc' },
  -- files or folders that mark a UET workspace root, nearest first.
  root_markers = {
    '.uet', 'PROJECT_PROFILE.yaml', 'PROJECT_PROFILE.yml', 'PROJECT_PROFILE.json',
    'router_config.json', 'router_config.yaml', 'workstreams', 'phases',
  },
  -- files or folders that mark a project root, for a server started on demand where no
  -- UET file exists yet (`:Uet bootstrap`); after root_markers, nearest first.
  project_markers = {
    '.git', 'pyproject.toml', 'setup.py', 'setup.cfg', 'package.json', 'Cargo.toml', 'go.mod',
    'pom.xml', 'build.gradle', 'build.gradle.kts', 'Gemfile', 'composer.json', 'dbt_project.yml',
    '.hg',
  },
  -- attach to a buffer only when its file is under a root marker or looks like an
  -- artifact by name; a function(bufnr, path, root_dir, found_marker) -> boolean overrides it.
  should_attach = nil,
  -- the `uet` settings section (see :help uet-settings); sent as initializationOptions,
  -- answered to workspace/configuration and sent with workspace/didChangeConfiguration.
  settings = {},
  -- how work-done progress is shown: 'echo' (echo area), 'notify' (vim.notify), false,
  -- or a function(event) receiving { client_id, token, kind, title, message, percentage }.
  progress = 'echo',
  -- show the server's code lenses (▶ Run workstream, ▶ Run task, ■ Cancel run) as virtual text.
  codelens = true,
  -- extra LSP handlers (method -> function), merged over the plugin's own.
  handlers = {},
  -- client capabilities; nil: vim.lsp.protocol.make_client_capabilities().
  capabilities = nil,
  -- function(client, bufnr) called when the client attaches to a buffer.
  on_attach = nil,
  -- milliseconds Neovim waits before sending didChange (the server debounces itself).
  debounce_text_changes = 50,
  -- create the :Uet command.
  create_command = true,
}

local current = vim.deepcopy(M.defaults)

local function check(opts)
  vim.validate({
    cmd = { opts.cmd, { 'table', 'function' }, true },
    filetypes = { opts.filetypes, 'table' },
    root_markers = { opts.root_markers, 'table' },
    project_markers = { opts.project_markers, 'table' },
    should_attach = { opts.should_attach, 'function', true },
    settings = { opts.settings, 'table' },
    progress = {
      opts.progress,
      function(value)
        return value == false or value == 'echo' or value == 'notify' or type(value) == 'function'
      end,
      "'echo', 'notify', false or a function",
    },
    codelens = { opts.codelens, 'boolean' },
    handlers = { opts.handlers, 'table' },
    capabilities = { opts.capabilities, 'table', true },
    on_attach = { opts.on_attach, 'function', true },
    debounce_text_changes = { opts.debounce_text_changes, 'number' },
    create_command = { opts.create_command, 'boolean' },
  })
end

--- Merge `opts` over the defaults; raises a readable error for a wrong option type.
function M.set(opts)
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- lists are replaced, not merged index by index
  for _, key in ipairs({ 'filetypes', 'root_markers', 'project_markers' }) do
    if opts and opts[key] then merged[key] = opts[key] end
  end
  if opts and opts.settings then merged.settings = vim.deepcopy(opts.settings) end
  check(merged)
  current = merged
  return current
end

function M.get()
  return current
end

return M
