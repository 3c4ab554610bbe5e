-- uet: the Neovim client of the uet-lsp language server (`uet serve`).
--
-- Owns starting one language-server client per UET workspace root and attaching it to the
-- UET buffers under that root, on every Neovim from 0.7 on: `vim.lsp.start` where it exists
-- (0.8+), `vim.lsp.start_client` + `vim.lsp.buf_attach_client` on 0.7. Settings travel as
-- initializationOptions and `workspace/didChangeConfiguration` (0.7 never sends the latter
-- and does not answer `workspace/configuration`). A client can also be started for a project
-- that has no UET file yet (M.start_for, `:Uet bootstrap`). Commands live in uet.commands,
-- code lenses in uet.lenses, the server's messages in uet.messages, progress rendering in
-- uet.progress, the bootstrap preview in uet.bootstrap, option defaults in uet.config.
local config = require('uet.config')

local M = {}

M.NAME = 'uet'

--- Latest `uet/status` (active profile) and `uet/runStatus` (current run) per client id.
M.status = {}

local uv = vim.loop
local has_08 = vim.fn.has('nvim-0.8') == 1
local method_style = vim.fn.has('nvim-0.11') == 1 -- client:request() instead of client.request()
local clients_by_root = {} -- root_dir -> client id (0.7 path; 0.8+ lets vim.lsp.start reuse)
M.stopping = {} -- client id -> true once M.stop() asked it to shut down
local warned_missing = false

-- File names that are UET artifacts by convention (docs/association.md), for files that
-- live outside a marked workspace root.
local ARTIFACT_NAME_PATTERNS = {
  '%.workstream%.%w+$', '%.phase%.%w+$', '%.task%.%w+$', '%.pattern%.%w+$', '%.verify%.%w+$',
  '%.router%.%w+$', '%.profile%-extension%.%w+$', '^router_config[^/]*$', '^PROJECT_PROFILE%.',
  '^project[-_]profile[^/]*$', '^patch_policy[^/]*$', '^bootstrap_discovery[^/]*$',
  '^bootstrap_report[^/]*$',
}
local ARTIFACT_DIR_NAMES = { workstreams = true, phases = true, phase_templates = true, ['.ledger'] = true }

--- Call a client method on every Neovim: `client:name(...)` on 0.11+, `client.name(...)` before.
function M.call(client, name, ...)
  if method_style then return client[name](client, ...) end
  return client[name](...)
end

local function all_clients()
  if vim.lsp.get_clients then return vim.lsp.get_clients() end
  return vim.lsp.get_active_clients()
end

--- The running uet clients; with `bufnr`, only those attached to that buffer.
function M.clients(bufnr)
  local found = {}
  for _, client in ipairs(all_clients()) do
    if client.name == M.NAME and (bufnr == nil or vim.lsp.buf_is_attached(bufnr, client.id)) then
      table.insert(found, client)
    end
  end
  return found
end

--- The uet client of a buffer (default: the current one), else the first running one.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.clients(bufnr)[1] or M.clients()[1]
end

--- Nearest ancestor of `path` holding one of `markers`; returns (dir, marker) or nil.
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. '/' .. marker) then return dir, marker end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then return nil end
    dir = parent
  end
end

local function has_modeline(bufnr)
  for _, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, 10, false)) do
    if line:match('^%s*#%s*uet:%s*schema=') then return true end
  end
  return false
end

local function looks_like_artifact(bufnr, path)
  local name = vim.fn.fnamemodify(path, ':t')
  for _, pattern in ipairs(ARTIFACT_NAME_PATTERNS) do
    if name:match(pattern) then return true end
  end
  if ARTIFACT_DIR_NAMES[vim.fn.fnamemodify(path, ':h:t')] then return true end
  return has_modeline(bufnr)
end

local function executable(path)
  return path ~= nil and vim.fn.executable(path) == 1
end

--- Where the server started by the plugin writes its log (beside Neovim's lsp.log): the
--- server's own records, one timestamp and a real level each. Neovim would log every line
--- the server writes to stderr into lsp.log as an ERROR with a second timestamp.
function M.server_log_path()
  return vim.fn.fnamemodify(vim.lsp.get_log_path(), ':h') .. '/uet-serve.log'
end

--- The server argv for a root, or nil (and one message) when no server can be found.
function M.resolve_cmd(root_dir)
  local cmd = config.get().cmd
  if type(cmd) == 'function' then cmd = cmd(root_dir) end
  if type(cmd) == 'table' and #cmd > 0 then return cmd end
  local log = { '--log-file', M.server_log_path() }
  if executable('uet') then return { 'uet', 'serve', unpack(log) } end
  local local_venv = root_dir .. '/.venv/bin/uet'
  if executable(local_venv) then return { local_venv, 'serve', unpack(log) } end
  if not warned_missing then
    warned_missing = true
    vim.notify(
      "[uet] language server not found: install it with `pip install uet-lsp` (or `pipx install "
        .. "uet-lsp`) so that `uet` is on $PATH, or pass cmd = { '/path/to/uet', 'serve' } to "
        .. "require('uet').setup(). See :help uet-install",
      vim.log.levels.ERROR
    )
  end
  return nil
end

local function settings_section()
  local settings = config.get().settings
  if next(settings) == nil then return vim.empty_dict() end
  return settings
end

-- Neovim 0.10-0.11 pull diagnostics but cannot be asked to pull again
-- (workspace/diagnostic/refresh), so diagnostics would stay stale after a settings change or
-- an edit of another file until the buffer changes. The plugin answers the refresh itself.
local function needs_refresh_handler()
  local caps = vim.lsp.protocol.make_client_capabilities()
  return caps.textDocument.diagnostic ~= nil and vim.lsp.handlers['workspace/diagnostic/refresh'] == nil
end

local function refresh_pulled_diagnostics(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then return vim.NIL end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.lsp.buf_is_attached(bufnr, client.id) then
      M.call(client, 'request', 'textDocument/diagnostic',
        { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }, nil, bufnr)
    end
  end
  return vim.NIL
end

local function own_handlers()
  local progress = require('uet.progress')
  local handlers = {
    ['$/progress'] = progress.handler,
    ['window/showMessage'] = require('uet.messages').handler,
    ['workspace/codeLens/refresh'] = function(...) return require('uet.lenses').refresh_handler(...) end,
    ['workspace/applyEdit'] = function(...) return require('uet.bootstrap').apply_edit_handler(...) end,
    ['uet/status'] = function(_, result, ctx)
      M.status[ctx.client_id] = vim.tbl_extend('force', M.status[ctx.client_id] or {}, { profile = result })
      vim.cmd('redrawstatus')
    end,
    ['uet/runStatus'] = function(_, result, ctx)
      M.status[ctx.client_id] = vim.tbl_extend('force', M.status[ctx.client_id] or {}, { run = result })
      vim.cmd('redrawstatus')
    end,
  }
  if needs_refresh_handler() then
    handlers['workspace/diagnostic/refresh'] = refresh_pulled_diagnostics
  end
  if not vim.lsp.handlers['window/showDocument'] then
    -- 0.7 cannot open a document for the server (`:Uet log` needs it): do it here.
    handlers['window/showDocument'] = function(_, result)
      local path = vim.uri_to_fname(result.uri)
      if result.external then
        return { success = false }
      end
      vim.cmd('edit ' .. vim.fn.fnameescape(path))
      if result.selection then
        local start = result.selection.start
        pcall(vim.api.nvim_win_set_cursor, 0, { start.line + 1, start.character })
      end
      return { success = true }
    end
  end
  return handlers
end

local function capabilities()
  local opts = config.get()
  local caps = opts.capabilities or vim.lsp.protocol.make_client_capabilities()
  if not vim.lsp.handlers['window/showDocument'] then
    caps = vim.tbl_deep_extend('force', caps, { window = { showDocument = { support = true } } })
  end
  if needs_refresh_handler() then
    caps = vim.tbl_deep_extend('force', caps, { workspace = { diagnostics = { refreshSupport = true } } })
  end
  -- Neovim shows code lenses (vim.lsp.codelens) but 0.7-0.10 do not say so, and none says
  -- it applies `documentChanges` (versioned edits, file creation), which it does: the
  -- bootstrap then goes through the editor, not behind its back.
  caps = vim.tbl_deep_extend('force', caps, {
    workspace = { codeLens = { refreshSupport = true }, workspaceEdit = { documentChanges = true } },
  })
  if config.get().codelens and caps.textDocument.codeLens == nil then
    caps.textDocument.codeLens = { dynamicRegistration = false }
  end
  return caps
end

-- Server commands the plugin runs itself when a code lens or code action names them: through
-- uet.commands (one message per outcome), the bootstrap through its preview.
local function client_commands()
  local found = {}
  for _, command in ipairs({ 'uet.runWorkstream', 'uet.runTask', 'uet.cancelRun', 'uet.resumeRun', 'uet.openLog' }) do
    found[command] = function(lsp_command, ctx)
      require('uet.commands').execute(lsp_command.command, lsp_command.arguments, nil,
        vim.lsp.get_client_by_id(ctx.client_id))
    end
  end
  found['uet.bootstrap'] = function(lsp_command, ctx)
    local arguments = lsp_command.arguments or {}
    require('uet.bootstrap').run(vim.lsp.get_client_by_id(ctx.client_id), arguments[1], arguments[2])
  end
  return found
end

local function on_attach(client, bufnr)
  -- 0.8+ set omnifunc themselves; 0.7 leaves Ctrl-X Ctrl-O doing nothing
  if vim.bo[bufnr].omnifunc == '' then vim.bo[bufnr].omnifunc = 'v:lua.vim.lsp.omnifunc' end
  if config.get().codelens then require('uet.lenses').attach(bufnr) end
  local user = config.get().on_attach
  if user then user(client, bufnr) end
end

--- The client configuration for a workspace root (nil when no server can be found).
function M.client_config(root_dir)
  local opts = config.get()
  local cmd = M.resolve_cmd(root_dir)
  if not cmd then return nil end
  local section = settings_section()
  return {
    name = M.NAME,
    cmd = cmd,
    root_dir = root_dir,
    workspace_folders = {
      { uri = vim.uri_from_fname(root_dir), name = vim.fn.fnamemodify(root_dir, ':t') },
    },
    init_options = { uet = section },
    settings = { uet = section },
    capabilities = capabilities(),
    handlers = vim.tbl_extend('force', own_handlers(), opts.handlers),
    commands = client_commands(),
    flags = { debounce_text_changes = opts.debounce_text_changes },
    on_init = function(client)
      if not has_08 then
        M.call(client, 'notify', 'workspace/didChangeConfiguration', { settings = client.config.settings })
      end
    end,
    on_attach = on_attach,
    on_exit = function(code, signal, client_id)
      for root, id in pairs(clients_by_root) do
        if id == client_id then clients_by_root[root] = nil end
      end
      M.status[client_id] = nil
      M.stopping[client_id] = nil
      if code ~= 0 and signal == 0 then
        vim.schedule(function()
          vim.notify(string.format('[uet] language server exited with code %d; see :Uet info', code),
            vim.log.levels.WARN)
        end)
      end
    end,
  }
end

--- Where the buffer's workspace is and whether the buffer is a UET file: (root, attach?).
function M.root_for(bufnr, path)
  local opts = config.get()
  local root, marker = M.find_root(path, opts.root_markers)
  if not root then
    root = M.find_root(path, { '.git' }) or vim.fn.fnamemodify(path, ':p:h')
  end
  local attach
  if opts.should_attach then
    attach = opts.should_attach(bufnr, path, root, marker)
  else
    attach = marker ~= nil or looks_like_artifact(bufnr, path)
  end
  return root, attach
end

--- Start (or reuse) the client for a buffer's workspace and attach it; returns the client id.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.bo[bufnr].buftype ~= '' then return nil end
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == '' or path:match('^%a[%w+.-]*://') then return nil end
  local root, attach = M.root_for(bufnr, path)
  if not attach then return nil end
  if vim.lsp.start then
    local cfg = M.client_config(root)
    if not cfg then return nil end
    return vim.lsp.start(cfg, { bufnr = bufnr })
  end
  local client_id = clients_by_root[root]
  if not client_id or not vim.lsp.get_client_by_id(client_id) then
    local cfg = M.client_config(root)
    if not cfg then return nil end
    client_id = vim.lsp.start_client(cfg)
    if not client_id then return nil end
    clients_by_root[root] = client_id
  end
  vim.lsp.buf_attach_client(bufnr, client_id)
  return client_id
end

--- The project root of a path (default: the current buffer's file, else the working
--- directory) for a client started on demand: the nearest UET root marker, else the nearest
--- project marker (.git, pyproject.toml, package.json, ...), else the folder itself.
function M.project_root(path)
  if path == nil or path == '' then path = vim.api.nvim_buf_get_name(0) end
  if path == '' or path:match('^%a[%w+.-]*://') then path = vim.fn.getcwd() .. '/.' end
  local opts = config.get()
  local root = M.find_root(path, opts.root_markers) or M.find_root(path, opts.project_markers)
  return root or vim.fn.fnamemodify(path, ':p:h')
end

--- The running uet client of `root`, or a new one (attached to no buffer) once it has
--- initialized; nil when no server can be found or it does not start within 10 s.
function M.start_for(root)
  for _, client in ipairs(M.clients()) do
    if client.config.root_dir == root then return client end
  end
  local cfg = M.client_config(root)
  if not cfg then return nil end
  local client_id
  if vim.fn.has('nvim-0.11') == 1 then
    client_id = vim.lsp.start(cfg, { attach = false })
  else
    client_id = vim.lsp.start_client(cfg)
  end
  if not client_id then return nil end
  if not has_08 then clients_by_root[root] = client_id end
  local client = vim.lsp.get_client_by_id(client_id)
  local ready = vim.wait(10000, function()
    client = vim.lsp.get_client_by_id(client_id)
    return client == nil or client.initialized == true
  end, 10)
  if not ready or client == nil then return nil end
  return client
end

--- Replace the `uet` settings (all of them) and tell every running client.
function M.update_settings(settings)
  local opts = config.get()
  opts.settings = vim.deepcopy(settings or {})
  local section = settings_section()
  for _, client in ipairs(M.clients()) do
    -- Neovim answers workspace/configuration from client.settings (0.10+) or
    -- client.config.settings (0.7-0.9)
    client.config.settings = { uet = section }
    if client.settings ~= nil then client.settings = client.config.settings end
    M.call(client, 'notify', 'workspace/didChangeConfiguration', { settings = client.config.settings })
  end
end

--- Stop every uet client; with `restart`, start them again for the buffers they served.
function M.stop(restart)
  local buffers = {}
  for _, client in ipairs(M.clients()) do
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.lsp.buf_is_attached(bufnr, client.id) then table.insert(buffers, bufnr) end
    end
    M.stopping[client.id] = true
    if vim.lsp.codelens.clear then -- 0.7 has none: the next refresh replaces them
      for _, bufnr in ipairs(buffers) do vim.lsp.codelens.clear(client.id, bufnr) end
    end
    M.call(client, 'stop')
  end
  clients_by_root = {}
  if not restart then return end
  vim.wait(3000, function() return #M.clients() == 0 end, 20)
  for _, bufnr in ipairs(buffers) do
    if vim.api.nvim_buf_is_valid(bufnr) then M.attach(bufnr) end
  end
end

--- A short status text for a statusline: active profile and current run, or ''.
function M.statusline()
  local client = M.client()
  local status = client and M.status[client.id]
  if not status then return '' end
  local parts = {}
  local profile = status.profile
  if type(profile) == 'table' then profile = profile.profile or profile.profileId or profile.id end
  if type(profile) == 'string' then table.insert(parts, 'UET ' .. profile) end
  local run = status.run
  if type(run) == 'table' and (run.state == 'running' or run.state == 'canceling') then
    local finished = (run.succeeded or 0) + (run.failed or 0) + (run.skipped or 0) + (run.canceled or 0)
    local counts = type(run.total) == 'number' and string.format(' %d/%d', finished, run.total) or ''
    table.insert(parts, (run.workstreamName or run.workstreamId or run.runId or 'run') .. counts .. ' ' .. run.state)
  end
  return table.concat(parts, ' · ')
end

--- Configure the plugin and attach to UET buffers (see :help uet-setup).
function M.setup(opts)
  local options = config.set(opts)
  local group = vim.api.nvim_create_augroup('uet', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = options.filetypes,
    callback = function(args) M.attach(args.buf) end,
  })
  if options.create_command then require('uet.commands').create() end
  -- buffers opened before setup() ran
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(options.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

return M
