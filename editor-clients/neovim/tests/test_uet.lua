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
local function record_message(err, result, ctx, config)
  table.insert(messages, result.message)
  table.insert(all_messages, result.message)
  return require('uet.messages').handler(err, result, ctx, config)
end

-- The lines :messages gained since `before` (a previous vim.fn.execute('messages')).
local function new_messages(before)
  local now = vim.split(vim.fn.execute('messages'), '\n', { trimempty = true })
  local old = vim.split(before, '\n', { trimempty = true })
  return vim.list_slice(now, #old + 1)
end

-- Whether lines fit the echo area one each (more, or a wider one, waits for Enter).
local function fits(lines)
  local width = require('uet.messages').width()
  for _, line in ipairs(lines) do
    if vim.fn.strdisplaywidth(line) > width then return false end
  end
  return true
end

-- Wait until `client` has no workspace/executeCommand in flight (its answer was handled).
local function commands_answered(client)
  return vim.wait(15000, function()
    for _, open_request in pairs(client.requests or {}) do
      if open_request.method == 'workspace/executeCommand' then return false end
    end
    return true
  end, 10)
end

-- The code lens texts shown in a buffer (virtual text of Neovim's codelens namespaces).
local function shown_lenses(bufnr)
  local texts = {}
  for name, ns in pairs(vim.api.nvim_get_namespaces()) do
    if name:lower():find('codelens', 1, true) then
      for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
        for _, chunk in ipairs(mark[4].virt_text or {}) do
          if chunk[1]:match('%S') and chunk[1] ~= ' | ' then
            table.insert(texts, { line = mark[2], text = chunk[1] })
          end
        end
      end
    end
  end
  return texts
end

local function lens_shown(bufnr, pattern)
  for _, lens in ipairs(shown_lenses(bufnr)) do
    if lens.text:find(pattern) then return lens end
  end
  return nil
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
    local extra = vim.tbl_filter(function(label) return labels[label] end, case.absent or {})
    if #(case.absent or {}) > 0 then
      check(#extra == 0, 'completion leaves out ' .. table.concat(case.absent, ', '), 'offered ' .. vim.inspect(extra))
    end
  end
end

local function test_preferred_fix(bufnr)
  local fix = expected.quickFix
  local diagnostic
  for _, item in ipairs(vim.diagnostic.get(bufnr)) do
    if item.lnum == fix.line then diagnostic = item end
  end
  if not check(diagnostic ~= nil, 'the fixed diagnostic is there') then return end
  local lsp = (diagnostic.user_data or {}).lsp or {}
  local lsp_diagnostic = {
    range = {
      start = { line = diagnostic.lnum, character = diagnostic.col },
      ['end'] = { line = diagnostic.end_lnum, character = diagnostic.end_col },
    },
    message = diagnostic.message, severity = diagnostic.severity, source = diagnostic.source,
    code = diagnostic.code, data = lsp.data,
  }
  local actions = request(bufnr, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = {
      start = { line = fix.line, character = fix.character },
      ['end'] = { line = fix.line, character = fix.character },
    },
    context = { diagnostics = { lsp_diagnostic } },
  }) or {}
  local preferred = vim.tbl_filter(function(action) return action.isPreferred end, actions)
  if #preferred == 0 then
    mark_pending('the suggested fix is marked preferred', 'the server marks no quick fix isPreferred yet')
    return
  end
  check(actions[1].isPreferred == true and actions[1].title == fix.title,
    'the suggested fix is the first code action and the preferred one', vim.inspect(actions))
end

local function test_quick_fix(bufnr)
  local fix = expected.quickFix
  test_preferred_fix(bufnr)
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
  check(offered[1] == fix.title, 'the suggested fix comes first in vim.lsp.buf.code_action()', vim.inspect(offered))
  local runs = vim.tbl_filter(function(title) return title:find('Run', 1, true) ~= nil end, offered)
  check(#runs == 0, 'no Run command is mixed in with the quick fixes (they are code lenses and :Uet actions)',
    vim.inspect(offered))
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

-- Code lenses as virtual text, the run commands as a menu of their own (:Uet actions), and
-- Ctrl-X Ctrl-O on every Neovim.
local function test_lenses_and_actions(uet, bufnr)
  check(vim.bo[bufnr].omnifunc == 'v:lua.vim.lsp.omnifunc', 'omnifunc is set (Ctrl-X Ctrl-O completes)',
    vim.bo[bufnr].omnifunc)
  local shown = vim.wait(10000, function()
    return lens_shown(bufnr, 'Run workstream') ~= nil and lens_shown(bufnr, 'Run task') ~= nil
  end, 20)
  check(shown, 'the code lenses "▶ Run workstream" and "▶ Run task" are shown', vim.inspect(shown_lenses(bufnr)))
  local task_line = expected.navigation.rename.at[1]
  local task_id = vim.api.nvim_buf_get_lines(bufnr, task_line, task_line + 1, false)[1]:match('task_id:%s*(%S+)')
  vim.api.nvim_win_set_cursor(0, { task_line + 2, 4 })
  local titles
  local original_select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    titles = vim.tbl_map(opts.format_item, items)
    on_choice(nil)
  end
  vim.cmd('Uet actions')
  vim.wait(10000, function() return titles ~= nil end, 10)
  vim.ui.select = original_select
  check(titles ~= nil and #titles == 2 and vim.tbl_contains(titles, '▶ Run workstream')
    and vim.tbl_contains(titles, '▶ Run task ' .. task_id),
    ':Uet actions offers "▶ Run workstream" and "▶ Run task ' .. tostring(task_id) .. '" (the task under the cursor)',
    vim.inspect(titles))
  local client = uet.client(bufnr)
  local actions = request(bufnr, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = task_line, character = 4 }, ['end'] = { line = task_line, character = 4 } },
    context = { diagnostics = {} },
  }) or {}
  check(client ~= nil and #vim.tbl_filter(function(action) return action.title:find('Run', 1, true) end, actions) == 0,
    'the code action list holds no Run commands (they are lenses)', vim.inspect(actions))
end

-- Running an invalid workstream: one line that fits the echo area (no hit-enter prompt), every
-- problem of the file reachable (the line, or the quickfix list when it does not fit).
local function test_refused_run(uet)
  local bufnr = open(expected.file)
  local client = uet.client(bufnr)
  vim.fn.setqflist({}, 'f')
  local before = vim.fn.execute('messages')
  messages = {}
  vim.cmd('Uet run')
  local refused = vim.wait(15000, function() return #messages > 0 end, 10)
  commands_answered(client)
  vim.wait(100, function() return false end, 10) -- let scheduled notifications run
  local lines = new_messages(before)
  check(refused and #lines == 1 and fits(lines),
    'running an invalid workstream shows one message that fits the echo area (no hit-enter prompt)',
    vim.inspect({ server = messages, shown = lines, width = require('uet.messages').width() }))
  local reachable = table.concat(lines, ' ')
  for _, item in ipairs(vim.fn.getqflist()) do reachable = reachable .. ' ' .. item.text end
  local missing = {}
  for _, problem in ipairs({ 'fail_fastt', 'compil' }) do
    if not reachable:find(problem, 1, true) then table.insert(missing, problem) end
  end
  check(#missing == 0, 'the refusal names every problem of the file (in the line or the quickfix list)',
    'missing ' .. vim.inspect(missing) .. ' in ' .. reachable)
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

  local quick = open(runs.quick.file)
  test_lenses_and_actions(uet, quick)
  test_refused_run(uet)
  vim.cmd('buffer ' .. quick)
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
  local cancel_lens = vim.wait(10000, function() return lens_shown(slow, 'Cancel run') ~= nil end, 20)
  check(cancel_lens, 'the code lenses are refreshed when the run starts: "■ Cancel run" is shown',
    vim.inspect(shown_lenses(slow)))
  local cancel_at = vim.loop.hrtime()
  vim.cmd('Uet cancel')
  events = wait_progress_end(runs.slow.title, 15000)
  last = events[#events] or {}
  check(last.kind == 'end' and tostring(last.message):find(runs.slow.endContains, 1, true) ~= nil,
    ':Uet cancel ends it: progress end says "' .. runs.slow.endContains .. '"', vim.inspect(last))
  out(string.format('cancel: :Uet cancel -> progress end in %.0f ms', ms_since(cancel_at)))
  local gone = vim.wait(10000, function() return lens_shown(slow, 'Cancel run') == nil end, 20)
  check(gone, 'and when it ends: "■ Cancel run" is gone', vim.inspect(shown_lenses(slow)))
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

-- A run's summary is in :messages once (the progress end line and the server's message are
-- the same text).
local function test_summary_once(uet)
  local bufnr = open(expected.runs.quick.file)
  local client = uet.client(bufnr)
  vim.cmd('messages clear')
  messages = {}
  vim.cmd('Uet run')
  local ended = vim.wait(30000, function()
    local run = (uet.status[client.id] or {}).run
    return #vim.tbl_filter(function(text) return text:find('succeeded', 1, true) ~= nil end, messages) > 0
      and type(run) == 'table' and run.state == 'succeeded'
  end, 20)
  commands_answered(client)
  vim.wait(200, function() return false end, 20) -- a late progress end would land here
  local text = vim.fn.execute('messages')
  local _, count = text:gsub(vim.pesc(expected.runs.quick.endContains), '')
  check(ended and count == 1, 'the run summary is in :messages once',
    vim.inspect({ messages = text, server = messages, run = (uet.status[client.id] or {}).run }))
end

-- :Uet bootstrap in a project without any UET file: a server is started for the project, the
-- plan is previewed (nothing written before the user confirms), Cancel writes nothing, Apply
-- writes the files through the editor (saved, no modified buffers) with one short message each.
local function test_bootstrap(uet)
  local project = vim.fn.tempname()
  vim.fn.mkdir(project .. '/src/demo', 'p')
  vim.fn.mkdir(project .. '/tests', 'p')
  vim.fn.writefile({ '[project]', 'name = "demo"', 'version = "0.1.0"' }, project .. '/pyproject.toml')
  vim.fn.writefile({ 'VALUE = 1' }, project .. '/src/demo/__init__.py')
  vim.fn.writefile({ 'def test_value():', '    assert True' }, project .. '/tests/test_demo.py')
  vim.fn.system({ 'git', 'init', '-q', project })
  vim.cmd('edit ' .. vim.fn.fnameescape(project .. '/src/demo/__init__.py'))
  local source = vim.api.nvim_get_current_buf()
  check(#uet.clients(source) == 0, 'a Python file of a project without UET files gets no server')
  local profile_file = project .. '/PROJECT_PROFILE.yaml'

  local asked, preview, written_before
  local answer = 'Cancel'
  local original_select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind == 'uet_profile' then return on_choice(items[1]) end
    asked = items
    preview = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    written_before = vim.fn.filereadable(profile_file) == 1
    on_choice(answer == 'Apply' and items[1] or 'Cancel')
  end
  vim.cmd('Uet bootstrap')
  vim.wait(30000, function() return asked ~= nil end, 20)
  local listed = table.concat(preview or {}, '\n')
  check(asked ~= nil and listed:find('create%s+PROJECT_PROFILE%.yaml') ~= nil and listed:find('create%s+router_config')
    ~= nil, ':Uet bootstrap starts a server for the project and previews the files it would write',
    vim.inspect({ asked = asked, preview = preview, clients = #uet.clients() }))
  check(written_before == false, 'nothing is written before the user confirms')
  local roots = vim.tbl_map(function(client) return client.config.root_dir end, uet.clients())
  local client = vim.tbl_filter(function(found) return found.config.root_dir == project end, uet.clients())[1]
  check(client ~= nil, 'the server started for the project root (.git)', vim.inspect(roots))
  if client then commands_answered(client) end
  check(vim.fn.filereadable(profile_file) == 0, 'Cancel writes nothing')

  asked = nil
  answer = 'Apply'
  local before = vim.fn.execute('messages')
  messages = {}
  vim.cmd('Uet bootstrap')
  local applied = vim.wait(30000, function()
    return #vim.tbl_filter(function(text) return text:find('bootstrapped', 1, true) ~= nil end, messages) > 0
  end, 20)
  vim.ui.select = original_select
  local size = vim.fn.getfsize(profile_file)
  check(applied and size > 0, 'Apply writes the files (PROJECT_PROFILE.yaml holds ' .. size .. ' bytes)',
    vim.inspect(messages))
  local by_server = vim.tbl_filter(function(text) return text:find('directly to disk', 1, true) ~= nil end, messages)
  check(#by_server == 0, 'the editor applies the bootstrap itself (documentChanges), not the server',
    vim.inspect(messages))
  local unsaved = {}
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.bo[bufnr].modified and vim.startswith(vim.api.nvim_buf_get_name(bufnr), project) then
      table.insert(unsaved, vim.api.nvim_buf_get_name(bufnr))
    end
  end
  check(#unsaved == 0, 'every file the bootstrap wrote is saved', vim.inspect(unsaved))
  local lines = new_messages(before)
  local outcome = vim.tbl_filter(function(line) return line:find('bootstrapped', 1, true) ~= nil end, lines)
  check(#outcome == 1 and fits(lines), 'its outcome is one line that fits the echo area',
    vim.inspect({ server = messages, shown = lines }))
  vim.cmd('silent! %bwipeout!')
end

-- Neovim's lsp.log holds Neovim's own records, not every line of the server's stderr as an ERROR
-- (nor answers to requests sent to a server shutting down); the server's log is its own file.
local function test_logs(uet)
  local path = vim.lsp.get_log_path() -- 0.11 creates it with its first record
  local lsp_log = table.concat(vim.fn.filereadable(path) == 1 and vim.fn.readfile(path) or {}, '\n')
  local noise = {}
  for line in lsp_log:gmatch('[^\n]+') do
    if line:find('"stderr"', 1, true) or line:find('after shutdown', 1, true) then table.insert(noise, line) end
  end
  check(#noise == 0, "Neovim's lsp.log holds no server stderr lines and no errors of a shutting-down server",
    table.concat(vim.list_slice(noise, 1, 5), '\n'))
  local server_log = vim.fn.filereadable(uet.server_log_path()) == 1 and vim.fn.readfile(uet.server_log_path()) or {}
  local started = vim.tbl_filter(function(line) return line:find('started', 1, true) ~= nil end, server_log)
  check(#started > 0, 'the server writes its log to ' .. vim.fn.fnamemodify(uet.server_log_path(), ':t')
    .. ' (shown by :Uet info)', tostring(#server_log) .. ' lines')
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
  -- the server as a user has it: `uet` on $PATH, started by the plugin's default command
  vim.env.PATH = vim.fn.fnamemodify(server, ':h') .. ':' .. vim.env.PATH
  uet.setup({
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
  test_summary_once(uet)
  test_attach_rules(uet)
  test_bootstrap(uet)
  uet.stop(false)
  vim.wait(3000, function() return #uet.clients() == 0 end, 20)
  test_logs(uet)
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
