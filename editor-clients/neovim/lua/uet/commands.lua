-- uet.commands: the `:Uet <subcommand>` command and its completion.
--
-- Every command the server lists in `executeCommandProvider` is reachable: the ones the
-- plugin knows get a short name and arguments taken from the editor (current file, task under
-- the cursor); any other `uet.<name>` is `:Uet <name>`, and `:Uet exec <command> [json...]`
-- runs any command with literal arguments. Client-side subcommands (info, restart, stop,
-- actions, bootstrap) need no running server: `:Uet bootstrap` starts one for the project.
-- Each outcome is one message: a command the server refuses (RequestFailed) was already
-- shown by the server.
local uet = require('uet')

local M = {}

local function notify(text, level)
  require('uet.messages').show(text, level)
end
M.notify = notify

-- LSP RequestFailed: the server refused and showed why in a message of its own.
local REQUEST_FAILED = -32803

local function buffer_uri(bufnr)
  return vim.uri_from_bufnr(bufnr or vim.api.nvim_get_current_buf())
end

-- The id of the task whose entry holds the cursor: the nearest `task_id` at or above it.
local function task_under_cursor()
  local row = vim.api.nvim_win_get_cursor(0)[1]
  local lines = vim.api.nvim_buf_get_lines(0, 0, row, false)
  for index = #lines, 1, -1 do
    local id = lines[index]:match('task_id"?%s*:%s*"?([%w_.%-]+)')
    if id then return id end
  end
  return nil
end

-- Known server commands: subcommand -> { command, arguments = function(args) -> list|nil }.
M.server_subcommands = {
  validate = { command = 'uet.validateWorkspace', desc = 'Validate workspace' },
  profile = {
    command = 'uet.selectProfile',
    desc = 'Select profile',
    arguments = function(args) return args[1] and { args[1] } or nil end,
  },
  run = {
    command = 'uet.runWorkstream',
    desc = 'Run workstream (argument: workstream id or file; default: this file)',
    arguments = function(args)
      if args[1] then return { args[1] } end
      if vim.api.nvim_buf_get_name(0) ~= '' and #uet.clients(0) > 0 then return { buffer_uri() } end
      return nil
    end,
  },
  task = {
    command = 'uet.runTask',
    desc = 'Run task (argument: task id; default: the task under the cursor)',
    arguments = function(args)
      local id = args[1] or task_under_cursor()
      if not id then error('no task id given and no task_id above the cursor', 0) end
      return { buffer_uri(), id }
    end,
  },
  cancel = {
    command = 'uet.cancelRun',
    desc = 'Cancel run (argument: run id; default: the running ones)',
    arguments = function(args) return args[1] and { args[1] } or nil end,
  },
  resume = {
    command = 'uet.resumeRun',
    desc = 'Resume run (argument: run id; default: pick one of the recent runs)',
    arguments = function(args) return args[1] and { args[1] } or nil end,
    pick_run = true,
  },
  runs = { command = 'uet.listRuns', desc = 'Show runs (pick one to open its log, cancel or resume it)' },
  log = {
    command = 'uet.openLog',
    desc = 'Open log (arguments: run id, task id; default: pick one of the recent runs)',
    arguments = function(args) return #args > 0 and args or nil end,
    pick_run = true,
  },
  schema = {
    command = 'uet.showSchema',
    desc = 'Show schema for this file',
    arguments = function() return { buffer_uri() } end,
  },
}

local function server_commands(client)
  local provider = client and client.server_capabilities and client.server_capabilities.executeCommandProvider
  return (type(provider) == 'table' and provider.commands) or {}
end

local function known_command_names()
  local names = {}
  for _, spec in pairs(M.server_subcommands) do names[spec.command] = true end
  return names
end

local function run_label(run)
  local counts = ''
  if type(run.totalTasks) == 'number' then counts = string.format(' (%d tasks)', run.totalTasks) end
  return string.format('%s  %-9s  %s%s  %s', tostring(run.runId or '?'), tostring(run.state or ''),
    tostring(run.workstreamId or ''), counts, tostring(run.startedAt or run.createdAt or ''))
end

--- Let the user pick one of `runs` (a uet.listRuns result) with vim.ui.select.
function M.choose_run(runs, prompt, on_run)
  if type(runs) ~= 'table' or #runs == 0 then
    notify('no runs yet')
    return
  end
  vim.ui.select(runs, { prompt = prompt .. ':', format_item = run_label, kind = 'uet_run' }, function(run)
    if run and run.runId then on_run(run.runId) end
  end)
end

-- Renders what a command returned, for the commands whose results mean something.
local function show_result(command, result)
  if result == nil or result == vim.NIL then return end
  if command == 'uet.showSchema' then return end -- the server shows its own message
  if command == 'uet.listRuns' and type(result) == 'table' then
    M.choose_run(result, 'UET run', function(run_id)
      local actions = { 'Open log', 'Cancel run', 'Resume run' }
      local commands = {
        ['Open log'] = 'uet.openLog', ['Cancel run'] = 'uet.cancelRun', ['Resume run'] = 'uet.resumeRun',
      }
      vim.ui.select(actions, { prompt = 'Run ' .. run_id .. ':' }, function(action)
        if action then M.execute(commands[action], { run_id }) end
      end)
    end)
    return
  end
  if type(result) == 'string' then
    notify(result)
  elseif type(result) == 'table' and type(result.message) == 'string' then
    notify(result.message)
  end
  -- a run status (run commands) says nothing new: its progress and summary are shown
end

--- Run a server command through `client` (default: the buffer's). The result is shown to the
--- user unless `on_result(err, result)` is given, which then gets it.
function M.execute(command, arguments, on_result, client)
  client = client or uet.client()
  if not client then
    notify('no UET language server is running for this buffer (see :Uet info)', vim.log.levels.WARN)
    return false
  end
  if not vim.tbl_contains(server_commands(client), command) then
    notify(string.format("the server does not offer '%s' (update uet-lsp)", command), vim.log.levels.WARN)
    return false
  end
  local params = { command = command, arguments = arguments }
  uet.call(client, 'request', 'workspace/executeCommand', params, function(err, result)
    if err and err.code ~= REQUEST_FAILED then
      notify(string.format('%s failed: %s', command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif not on_result then
      show_result(command, result)
    end
    if on_result then on_result(err, result) end
  end, vim.api.nvim_get_current_buf())
  return true
end

local function info()
  local lines = {}
  local clients = uet.clients()
  if #clients == 0 then
    table.insert(lines, 'no uet client running')
  end
  for _, client in ipairs(clients) do
    table.insert(lines, string.format('client %d: root %s', client.id, client.config.root_dir))
    table.insert(lines, '  cmd: ' .. table.concat(client.config.cmd, ' '))
    table.insert(lines, '  commands: ' .. table.concat(server_commands(client), ', '))
    table.insert(lines, '  settings: ' .. vim.inspect(client.config.settings.uet, { newline = ' ', indent = '' }))
    local status = uet.statusline()
    if status ~= '' then table.insert(lines, '  status: ' .. status) end
  end
  table.insert(lines, 'log: ' .. vim.lsp.get_log_path() .. ', server log: ' .. uet.server_log_path())
  -- asked for: several lines on purpose
  vim.notify('[uet] ' .. table.concat(lines, '\n'), vim.log.levels.INFO)
end

-- Client-side subcommands.
M.client_subcommands = {
  info = { desc = 'Show the uet clients, their server command and settings', run = info },
  actions = {
    desc = 'Run or cancel: the code lenses of the workstream and the task under the cursor',
    run = function() require('uet.lenses').pick() end,
  },
  bootstrap = {
    desc = 'Bootstrap this project (argument: profile id): preview the files, then write them',
    run = function(args) require('uet.bootstrap').run(nil, args[1]) end,
  },
  restart = { desc = 'Restart the language server', run = function() uet.stop(true) end },
  stop = { desc = 'Stop the language server', run = function() uet.stop(false) end },
  exec = {
    desc = 'Run any server command: :Uet exec <command> [json arguments...]',
    run = function(args)
      local command = table.remove(args, 1)
      if not command then error('usage: :Uet exec <command> [json arguments...]', 0) end
      local arguments = {}
      for _, text in ipairs(args) do
        local ok, value = pcall(vim.json.decode, text)
        table.insert(arguments, ok and value or text)
      end
      M.execute(command, #arguments > 0 and arguments or nil)
    end,
  },
}

--- Subcommand names available now: client-side ones, known server commands the server
--- offers, and every other `uet.<name>` the server lists.
function M.available()
  local names = vim.tbl_keys(M.client_subcommands)
  local offered = {}
  for _, client in ipairs(uet.clients()) do
    for _, command in ipairs(server_commands(client)) do offered[command] = true end
  end
  for name, spec in pairs(M.server_subcommands) do
    if offered[spec.command] then table.insert(names, name) end
  end
  local known = known_command_names()
  for command in pairs(offered) do
    local short = command:match('^uet%.(.+)$')
    if short and not known[command] and not M.client_subcommands[short] and not M.server_subcommands[short] then
      table.insert(names, short)
    end
  end
  table.sort(names)
  return names
end

--- `:Uet` completion: subcommand names, then server command ids after `exec`.
function M.complete(arg_lead, cmd_line)
  local words = vim.split(cmd_line, '%s+', { trimempty = true })
  local completing_first = #words <= 1 or (#words == 2 and arg_lead ~= '')
  local candidates
  if completing_first then
    candidates = M.available()
  elseif words[2] == 'exec' and (#words == 2 or (#words == 3 and arg_lead ~= '')) then
    candidates = {}
    for _, client in ipairs(uet.clients()) do vim.list_extend(candidates, server_commands(client)) end
  else
    return {}
  end
  return vim.tbl_filter(function(name) return vim.startswith(name, arg_lead) end, candidates)
end

--- Run `:Uet <subcommand> [args...]`.
function M.run(subcommand, args)
  args = args or {}
  local client_side = M.client_subcommands[subcommand]
  if client_side then return client_side.run(args) end
  local spec = M.server_subcommands[subcommand]
  if spec then
    local arguments = spec.arguments and spec.arguments(vim.deepcopy(args)) or nil
    if arguments == nil and spec.pick_run then
      -- the command needs a run: offer the recent ones
      local prompt = vim.trim(spec.desc:match('^[^(]+'))
      return M.execute('uet.listRuns', nil, function(err, runs)
        if not err then
          M.choose_run(runs, prompt, function(run_id) M.execute(spec.command, { run_id }) end)
        end
      end)
    end
    return M.execute(spec.command, arguments)
  end
  if subcommand and subcommand ~= '' then
    return M.execute('uet.' .. subcommand, #args > 0 and args or nil)
  end
  notify('subcommands: ' .. table.concat(M.available(), ', '))
end

--- Create the `:Uet` user command.
function M.create()
  vim.api.nvim_create_user_command('Uet', function(opts)
    local ok, err = pcall(M.run, opts.fargs[1], vim.list_slice(opts.fargs, 2))
    if not ok then notify(tostring(err), vim.log.levels.ERROR) end
  end, { nargs = '*', complete = M.complete, desc = 'uet-lsp commands (see :help uet-commands)' })
end

return M
