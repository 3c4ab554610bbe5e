-- End-to-end test of the uet Neovim plugin in a real headless Neovim (0.7+) against the real
-- `uet serve`. Run through tests/run.sh, which sets:
--   UET_SERVER     the `uet` executable          UET_WORKSPACE  a fresh copy of the fixture
--   UET_EXPECTED   fixtures/expected.json        UET_TIMEOUT_MS hang guard (default 90000)
-- Prints `ok:`/`FAIL:`/`pending:` lines and a closing `N passed, N failed` line; exits 0 only
-- when nothing failed. Features the server does not offer yet are reported as pending, never
-- as passed.
local server = assert(os.getenv('UET_SERVER'), 'UET_SERVER not set')
local workspace = assert(os.getenv('UET_WORKSPACE'), 'UET_WORKSPACE not set')
local expected = vim.json.decode(table.concat(vim.fn.readfile(assert(os.getenv('UET_EXPECTED'))), '\n'))
local timeout_ms = tonumber(os.getenv('UET_TIMEOUT_MS') or '') or 90000

local passed, failed, pending = 0, {}, {}
local function out(line) io.stdout:write(line .. '\n') end
local function check(condition, what, detail)
  if condition then
    passed = passed + 1
    out('ok: ' .. what)
  else
    table.insert(failed, what)
    out('FAIL: ' .. what .. (detail and ('\n      ' .. detail) or ''))
  end
  return condition
end
local function mark_pending(what, why)
  table.insert(pending, what)
  out('pending: ' .. what .. ' (' .. why .. ')')
end
local function finish()
  local line = string.format('%d passed, %d failed', passed, #failed)
  if #pending > 0 then line = line .. string.format(', %d skipped', #pending) end
  out(line)
  io.stdout:flush()
  os.exit(#failed == 0 and 0 or 1)
end

-- A Lua error in headless Neovim would hang instead of exiting: a timer guard ends the run.
local guard = vim.loop.new_timer()
guard:start(timeout_ms, 0, vim.schedule_wrap(function()
  table.insert(failed, 'timeout')
  out(string.format('FAIL: the test did not finish within %d ms', timeout_ms))
  finish()
end))

local function ms_since(start) return (vim.loop.hrtime() - start) / 1e6 end

-- What the server told the user (window/showMessage) and the progress the plugin showed.
local messages, progress_events, all_messages = {}, {}, {}
local function record_message(_, result)
  table.insert(messages, result.message)
  table.insert(all_messages, result.message)
end

-- window/showMessageRequest: Neovim's own handler waits for keyboard input, which a headless
-- test has not got. The server asks whether the workspace may run commands (when its
-- settings did not reach it yet): answer as a person would, trusting the test workspace.
local questions = {}
local function answer_question(_, result)
  table.insert(questions, result.message)
  for _, action in ipairs(result.actions or {}) do
    if action.title:match('^Trust') then return action end
  end
  return vim.NIL
end

local function lsp_diagnostics(bufnr)
  local diagnostics = vim.diagnostic.get(bufnr)
  table.sort(diagnostics, function(a, b) return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col) end)
  return diagnostics
end

local function request(bufnr, method, params)
  local responses = vim.lsp.buf_request_sync(bufnr, method, params, 10000) or {}
  local _, response = next(responses) -- one uet client per buffer
  if not response then return nil, 'no response' end
  if response.err then return nil, response.err end
  return response.result
end

local function test_no_settings_warning()
  local warnings = vim.tbl_filter(function(text) return text:find('uet settings', 1, true) ~= nil end, messages)
  check(#warnings == 0, 'the server accepts the settings the plugin sends at start-up (no warning)',
    vim.inspect(warnings))
end

local function test_startup_and_diagnostics(uet)
  local path = workspace .. '/' .. expected.file
  local start = vim.loop.hrtime()
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  local attached = vim.wait(10000, function() return #uet.clients(bufnr) > 0 end, 5)
  check(attached, 'the plugin starts `uet serve` and attaches it to a workstream buffer')
  local got = vim.wait(15000, function() return #vim.diagnostic.get(bufnr) > 0 end, 5)
  local elapsed = ms_since(start)
  check(got, 'diagnostics arrive for the invalid artifact')
  out(string.format('startup: open file -> first diagnostics: %.0f ms (goal <= 1500 ms, includes server start)',
    elapsed))
  vim.wait(2000, function() return #vim.diagnostic.get(bufnr) >= #expected.diagnostics end, 10)
  local diagnostics = lsp_diagnostics(bufnr)
  check(#diagnostics == #expected.diagnostics, 'exactly ' .. #expected.diagnostics .. ' diagnostics',
    'got ' .. vim.inspect(diagnostics))
  for index, want in ipairs(expected.diagnostics) do
    local have = diagnostics[index] or {}
    check(have.lnum == want.line and have.col == want.character and have.end_lnum == want.endLine
      and have.end_col == want.endCharacter,
      string.format('%s range %d:%d-%d:%d', want.code, want.line, want.character, want.endLine, want.endCharacter),
      string.format('got %s:%s-%s:%s', have.lnum, have.col, have.end_lnum, have.end_col))
    check(have.message == want.message, want.code .. ' message', 'got ' .. tostring(have.message))
    check(have.code == want.code and have.severity == want.severity and have.source == 'uet',
      want.code .. ' code, severity and source', 'got ' .. vim.inspect({ have.code, have.severity, have.source }))
  end
  return bufnr
end

local function test_hover_and_completion(bufnr)
  local uri = vim.uri_from_bufnr(bufnr)
  local hover = request(bufnr, 'textDocument/hover', {
    textDocument = { uri = uri },
    position = { line = expected.hover.line, character = expected.hover.character },
  })
  local text = hover and hover.contents and (hover.contents.value or vim.inspect(hover.contents)) or ''
  check(text:find(expected.hover.contains, 1, true) ~= nil,
    'hover on `strategy` describes the allowed values', 'got ' .. vim.inspect(hover))

  for _, case in ipairs(expected.completion) do
    local completion = request(bufnr, 'textDocument/completion', {
      textDocument = { uri = uri },
      position = { line = case.line, character = case.character },
    })
    local items = completion and (completion.items or completion) or {}
    local labels = {}
    for _, item in ipairs(items) do labels[item.label] = true end
    local missing = vim.tbl_filter(function(label) return not labels[label] end, case.labels)
    check(#missing == 0, 'completion offers the ' .. case.what .. ': ' .. table.concat(case.labels, ', '),
      'missing ' .. vim.inspect(missing) .. ' in ' .. vim.inspect(vim.tbl_keys(labels)))
  end
end

local function test_quick_fix(bufnr)
  local fix = expected.quickFix
  vim.api.nvim_win_set_cursor(0, { fix.line + 1, fix.character })
  local offered = {}
  local original_select = vim.ui.select
  -- Neovim's own code-action flow (vim.lsp.buf.code_action): pick the fix as a user would.
  vim.ui.select = function(items, opts, on_choice)
    local chosen
    for _, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or item[2].title
      table.insert(offered, title)
      if title == fix.title then chosen = item end
    end
    on_choice(chosen)
  end
  vim.lsp.buf.code_action()
  local changed = vim.wait(10000, function()
    return vim.api.nvim_buf_get_lines(bufnr, fix.line, fix.line + 1, false)[1] == fix.lineAfter
  end, 10)
  vim.ui.select = original_select
  check(vim.tbl_contains(offered, fix.title), 'the quick fix "' .. fix.title .. '" is offered',
    'offered ' .. vim.inspect(offered))
  check(changed, 'applying it changes the buffer line to `' .. fix.lineAfter .. '`',
    'line is ' .. vim.inspect(vim.api.nvim_buf_get_lines(bufnr, fix.line, fix.line + 1, false)[1]))
  local cleared = vim.wait(10000, function() return #vim.diagnostic.get(bufnr) == #expected.diagnostics - 1 end, 10)
  check(cleared, 'the fixed diagnostic disappears, the others stay',
    vim.inspect(lsp_diagnostics(bufnr)))
end

local function test_commands(uet, bufnr)
  local client = uet.client(bufnr)
  local offered = (client.server_capabilities.executeCommandProvider or {}).commands or {}
  local completion = vim.fn.getcompletion('Uet ', 'cmdline')
  local reachable = {}
  for _, name in ipairs(completion) do reachable[name] = true end
  local commands = require('uet.commands')
  local unreachable = {}
  for _, command in ipairs(offered) do
    local short
    for name, spec in pairs(commands.server_subcommands) do
      if spec.command == command then short = name end
    end
    short = short or command:gsub('^uet%.', '')
    if not reachable[short] then table.insert(unreachable, command .. ' (:Uet ' .. short .. ')') end
  end
  check(#offered > 0 and #unreachable == 0,
    'every server command (' .. table.concat(offered, ', ') .. ') completes as a :Uet subcommand',
    'unreachable: ' .. vim.inspect(unreachable) .. '; completion: ' .. vim.inspect(completion))
  check(reachable.info and reachable.restart and reachable.exec, ':Uet completes the client-side info, restart, exec')
  check(vim.tbl_contains(vim.fn.getcompletion('Uet exec uet.', 'cmdline'), 'uet.showSchema'),
    ':Uet exec completes server command ids')

  messages = {}
  vim.cmd('Uet schema')
  local shown = vim.wait(10000, function() return #messages > 0 end, 10)
  check(shown and messages[1]:match('^workstream_spec') ~= nil,
    ':Uet schema shows which schema applies and why', 'messages: ' .. vim.inspect(messages))
end

-- Go to definition, document symbols and rename through Neovim's own LSP functions.
local function test_navigation(uet)
  local nav = expected.navigation
  vim.cmd('edit ' .. vim.fn.fnameescape(workspace .. '/' .. nav.file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.wait(10000, function() return #uet.clients(bufnr) > 0 end, 10)
  vim.api.nvim_win_set_cursor(0, { nav.definition.from[1] + 1, nav.definition.from[2] })
  vim.lsp.buf.definition()
  local jumped = vim.wait(10000, function()
    local cursor = vim.api.nvim_win_get_cursor(0)
    return cursor[1] == nav.definition.to[1] + 1 and cursor[2] == nav.definition.to[2]
  end, 10)
  check(jumped, 'go to definition (vim.lsp.buf.definition) jumps from depends_on to the task_id',
    'cursor at ' .. vim.inspect(vim.api.nvim_win_get_cursor(0)))

  local symbols = request(bufnr, 'textDocument/documentSymbol', { textDocument = { uri = vim.uri_from_bufnr(bufnr) } })
  local names = {}
  local function walk(items)
    for _, item in ipairs(items or {}) do
      names[item.name] = true
      walk(item.children)
    end
  end
  walk(symbols)
  local missing = vim.tbl_filter(function(name) return not names[name] end, nav.symbols)
  check(#missing == 0, 'document symbols list the workstream and its tasks: ' .. table.concat(nav.symbols, ', '),
    'symbols: ' .. vim.inspect(vim.tbl_keys(names)))

  vim.api.nvim_win_set_cursor(0, { nav.rename.at[1] + 1, nav.rename.at[2] })
  vim.lsp.buf.rename(nav.rename.newName)
  local renamed = vim.wait(10000, function()
    for line, text in pairs(nav.rename.lines) do
      if vim.api.nvim_buf_get_lines(bufnr, tonumber(line), tonumber(line) + 1, false)[1] ~= text then return false end
    end
    return true
  end, 10)
  check(renamed, 'rename (vim.lsp.buf.rename) changes the task id and the depends_on that names it',
    vim.inspect(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)))
  vim.cmd('silent! undo')
  vim.cmd('silent! write')
end

local function test_settings(uet, bufnr)
  -- didChangeConfiguration: opting the file out through uet.schemas ...
  uet.update_settings({ schemas = { none = { expected.file } } })
  local uri = vim.uri_from_bufnr(bufnr)
  local answer
  local applied = vim.wait(10000, function()
    answer = request(bufnr, 'uet/schemaForDocument', { textDocument = { uri = uri } })
    return type(answer) == 'table' and (answer.schema == nil or answer.schema == vim.NIL)
      and tostring(answer.reason):find('uet.schemas', 1, true) ~= nil
  end, 50)
  check(applied, 'settings sent with workspace/didChangeConfiguration reach the server (uet.schemas opt-out)',
    vim.inspect(answer))
  -- ... clears its diagnostics
  local cleared = vim.wait(5000, function() return #vim.diagnostic.get(bufnr) == 0 end, 10)
  local pulled = (uet.client(bufnr).server_capabilities.diagnosticProvider ~= nil)
    and vim.lsp.protocol.make_client_capabilities().textDocument.diagnostic ~= nil
  if not cleared and pulled then
    -- known gap of the server: no workspace/diagnostic/refresh after a settings change
    mark_pending('diagnostics follow a settings change on a pull-diagnostics client',
      'the server sends no workspace/diagnostic/refresh after didChangeConfiguration')
  else
    check(cleared, 'the opted-out file loses its diagnostics')
  end
  messages = {}
  uet.update_settings({ debounce = 'soon' })
  local warned = vim.wait(10000, function()
    return #vim.tbl_filter(function(text) return text:find("'uet.debounce'", 1, true) ~= nil end, messages) > 0
  end, 10)
  check(warned, 'an invalid setting comes back as a server message naming it', vim.inspect(messages))
  uet.update_settings({})
  local back = vim.wait(10000, function() return #vim.diagnostic.get(bufnr) > 0 end, 10)
  check(back, 'resetting the settings brings the diagnostics back')
end

local function test_restart(uet, bufnr)
  local indexing = vim.tbl_filter(function(event) return event.title == 'Indexing UET artifacts' end, progress_events)
  local kinds = vim.tbl_map(function(event) return event.kind end, indexing)
  check(kinds[1] == 'begin' and vim.tbl_contains(kinds, 'end'),
    'work-done progress (indexing) reaches the progress callback: begin ... end', vim.inspect(kinds))
  -- from here on the default renderer: the echo area, with the end line kept in :messages
  require('uet.config').get().progress = 'echo'
  vim.cmd('messages clear')
  local before = uet.client(bufnr).id
  vim.cmd('Uet restart')
  local restarted = vim.wait(15000, function()
    local client = uet.clients(bufnr)[1]
    return client ~= nil and client.id ~= before and client.initialized ~= false
  end, 20)
  check(restarted, ':Uet restart starts a new server for the open buffer')
  local again = vim.wait(15000, function() return #vim.diagnostic.get(bufnr) > 0 end, 10)
  check(again, 'the restarted server publishes diagnostics again')
  local echoed = vim.wait(10000, function()
    return vim.fn.execute('messages'):find('[uet] Indexing UET artifacts', 1, true) ~= nil
  end, 20)
  check(echoed, "progress = 'echo' leaves the indexing end line in :messages",
    vim.fn.execute('messages'))
end

local function progress_of(title)
  return vim.tbl_filter(function(event) return event.title == title end, progress_events)
end

local function wait_progress_end(title, timeout)
  vim.wait(timeout, function()
    return #vim.tbl_filter(function(event) return event.kind == 'end' end, progress_of(title)) > 0
  end, 20)
  return progress_of(title)
end

local function open(relative)
  vim.cmd('edit ' .. vim.fn.fnameescape(workspace .. '/' .. relative))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.wait(10000, function() return #require('uet').clients(bufnr) > 0 end, 10)
  return bufnr
end

-- :Uet run, :Uet cancel, :Uet runs and failed tasks as diagnostics, against the real engine.
local function test_runs(uet, bufnr)
  local client = uet.client(bufnr)
  local offered = (client.server_capabilities.executeCommandProvider or {}).commands or {}
  if not vim.tbl_contains(offered, 'uet.runWorkstream') then
    mark_pending(':Uet run shows progress begin/report/end', 'the server offers no uet.runWorkstream yet')
    mark_pending(':Uet cancel stops a long run', 'the server offers no uet.cancelRun yet')
    return
  end
  local runs = expected.runs
  uet.update_settings({ trustedWorkspace = true })

  open(runs.quick.file)
  local started = vim.loop.hrtime()
  vim.cmd('Uet run')
  local events = wait_progress_end(runs.quick.title, 30000)
  local kinds = vim.tbl_map(function(event) return event.kind end, events)
  check(kinds[1] == 'begin' and vim.tbl_contains(kinds, 'report') and kinds[#kinds] == 'end',
    ':Uet run shows the run\'s progress: begin, report..., end', vim.inspect(kinds))
  local last = events[#events] or {}
  check(last.kind == 'end' and tostring(last.message):find(runs.quick.endContains, 1, true) ~= nil,
    'the progress ends with the summary "' .. runs.quick.endContains .. ' in ..."', vim.inspect(last))
  out(string.format('run: ws-quick (3 tasks of 0.3 s) ended %.0f ms after :Uet run', ms_since(started)))

  local listed
  local original_select = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    listed = items
    on_choice(nil)
  end
  vim.cmd('Uet runs')
  vim.wait(10000, function() return listed ~= nil end, 20)
  vim.ui.select = original_select
  local quick_run = vim.tbl_filter(function(run) return run.workstreamId == 'ws-quick' end, listed or {})[1]
  check(quick_run ~= nil and quick_run.state == 'succeeded', ':Uet runs lists the run as succeeded',
    vim.inspect(listed))

  local slow = open(runs.slow.file)
  vim.cmd('Uet run')
  local begun = vim.wait(15000, function() return #progress_of(runs.slow.title) > 0 end, 20)
  check(begun, 'a long run starts (progress begin "' .. runs.slow.title .. '")')
  local cancel_at = vim.loop.hrtime()
  vim.cmd('Uet cancel')
  events = wait_progress_end(runs.slow.title, 15000)
  last = events[#events] or {}
  check(last.kind == 'end' and tostring(last.message):find(runs.slow.endContains, 1, true) ~= nil,
    ':Uet cancel ends it: progress end says "' .. runs.slow.endContains .. '"', vim.inspect(last))
  out(string.format('cancel: :Uet cancel -> progress end in %.0f ms', ms_since(cancel_at)))
  vim.api.nvim_buf_delete(slow, { force = true })

  local failing = open(runs.fail.file)
  vim.cmd('Uet run')
  wait_progress_end(runs.fail.title, 30000)
  local result
  vim.wait(10000, function()
    for _, diagnostic in ipairs(vim.diagnostic.get(failing)) do
      if tostring(diagnostic.code):find('^' .. runs.fail.codePrefix) then result = diagnostic end
    end
    return result ~= nil
  end, 20)
  check(result ~= nil and result.lnum == runs.fail.taskLine,
    'the failed task gets a ' .. runs.fail.codePrefix .. 'xx diagnostic on its task_id line',
    vim.inspect(result or vim.diagnostic.get(failing)))
  if result then out('run result diagnostic: ' .. result.code .. ' ' .. result.message:gsub('\n', ' | ')) end
  for _, question in ipairs(questions) do out('note: the server asked (answered "Trust"): ' .. question) end
  vim.cmd('buffer ' .. bufnr)
end

-- Which buffers get the server: a plain JSON file outside any UET root does not; a file named
-- like an artifact does, wherever it is.
local function test_attach_rules(uet)
  local outside = vim.fn.tempname()
  vim.fn.mkdir(outside, 'p')
  vim.fn.writefile({ '{"name": "not an artifact"}' }, outside .. '/data.json')
  vim.fn.writefile({ 'workstream_id: ws-loose', 'tasks: []' }, outside .. '/loose.workstream.yaml')
  vim.cmd('edit ' .. vim.fn.fnameescape(outside .. '/data.json'))
  local plain = vim.api.nvim_get_current_buf()
  vim.wait(300, function() return false end, 50)
  check(#uet.clients(plain) == 0, 'a plain JSON file outside a UET workspace gets no server')
  vim.cmd('edit ' .. vim.fn.fnameescape(outside .. '/loose.workstream.yaml'))
  local loose = vim.api.nvim_get_current_buf()
  local attached = vim.wait(10000, function() return #uet.clients(loose) > 0 end, 10)
  check(attached, 'a *.workstream.yaml file gets the server wherever it is')
  vim.cmd('bwipeout! ' .. plain .. ' ' .. loose)
end

local function test_help()
  local source = vim.api.nvim_get_runtime_file('doc/uet.txt', false)[1]
  local dir = vim.fn.tempname() .. '/doc'
  vim.fn.mkdir(dir, 'p')
  local lines = vim.fn.readfile(source)
  vim.fn.writefile(lines, dir .. '/uet.txt')
  local ok, err = pcall(vim.cmd, 'helptags ' .. vim.fn.fnameescape(dir))
  check(ok, 'doc/uet.txt builds help tags', tostring(err))
  local tags = {}
  for _, line in ipairs(ok and vim.fn.readfile(dir .. '/tags') or {}) do tags[line:match('^(%S+)')] = true end
  local dangling = {}
  for _, line in ipairs(lines) do
    for link in line:gmatch('|([%w_.:()%-]+)|') do
      if link:match('^:?uet') and not tags[link] then table.insert(dangling, link) end
    end
  end
  check(tags['uet-setup'] and tags[':Uet'] and #dangling == 0, 'every |uet...| link in doc/uet.txt has a tag',
    'dangling: ' .. vim.inspect(dangling))
end

local function main()
  vim.cmd('filetype on')
  vim.cmd('runtime plugin/uet.lua')
  local uet = require('uet')
  uet.setup({
    cmd = { server, 'serve' },
    handlers = { ['window/showMessage'] = record_message, ['window/showMessageRequest'] = answer_question },
    progress = function(event)
      table.insert(progress_events, event)
      out(string.format('  progress %s: %s', event.kind, require('uet.progress').format(event)))
    end,
  })
  test_help()
  local bufnr = test_startup_and_diagnostics(uet)
  test_no_settings_warning()
  test_hover_and_completion(bufnr)
  test_commands(uet, bufnr)
  test_quick_fix(bufnr)
  vim.cmd('silent! undo')
  test_navigation(uet)
  vim.cmd('buffer ' .. bufnr)
  test_settings(uet, bufnr)
  test_runs(uet, bufnr)
  test_restart(uet, bufnr)
  test_attach_rules(uet)
  uet.stop(false)
  vim.wait(3000, function() return #uet.clients() == 0 end, 20)
  for _, text in ipairs(all_messages) do
    if text:find('internal error', 1, true) then out('note: the server reported: ' .. text) end
  end
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  table.insert(failed, 'lua error')
  out('FAIL: lua error: ' .. tostring(err))
end
guard:stop()
finish()
