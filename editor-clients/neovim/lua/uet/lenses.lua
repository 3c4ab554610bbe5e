-- uet.lenses: the server's code lenses (▶ Run workstream, ▶ Run task, ■ Cancel run) shown as
-- virtual text with Neovim's own vim.lsp.codelens, kept fresh, and the same commands as a
-- menu of their own (`:Uet actions`), apart from the quick fixes of vim.lsp.buf.code_action().
--
-- Lenses are requested when a buffer is attached, entered or changed (leaving Insert mode),
-- and for every attached buffer when the server asks (`workspace/codeLens/refresh`: runs
-- start and end). vim.lsp.codelens.run() runs the lens of the cursor line.
local uet = require('uet')

local M = {}

local group = vim.api.nvim_create_augroup('uet_lenses', { clear = true })

--- Ask the uet client of `bufnr` for its lenses and show them (not while it shuts down: it
--- would only answer with an error; 0.7-0.9's vim.lsp.codelens.refresh() also fails on an
--- answer for a buffer wiped since).
function M.refresh(bufnr)
  if not vim.api.nvim_buf_is_loaded(bufnr) then return end
  for _, client in ipairs(uet.clients(bufnr)) do
    if not uet.stopping[client.id] then
      local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
      uet.call(client, 'request', 'textDocument/codeLens', params, function(err, result, ctx, config)
        if vim.api.nvim_buf_is_valid(ctx.bufnr) then vim.lsp.codelens.on_codelens(err, result, ctx, config) end
      end, bufnr)
    end
  end
end

--- Show and refresh the lenses of a buffer the uet client attached to.
function M.attach(bufnr)
  vim.api.nvim_clear_autocmds({ group = group, buffer = bufnr })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'TextChanged' }, {
    group = group,
    buffer = bufnr,
    callback = function() M.refresh(bufnr) end,
  })
  M.refresh(bufnr)
end

--- `workspace/codeLens/refresh` handler: refresh every buffer the client is attached to.
function M.refresh_handler(_, _, ctx)
  vim.schedule(function()
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.lsp.buf_is_attached(bufnr, ctx.client_id) then
        M.refresh(bufnr)
      end
    end
  end)
  return vim.NIL
end

-- The run commands that apply at `row` (0-based): the workstream's (run, cancel) and the
-- task whose lens is the nearest at or above the row.
local function commands_at(lenses, row)
  local found, task = {}, nil
  for _, lens in ipairs(lenses or {}) do
    local command = lens.command
    if type(command) == 'table' and type(command.command) == 'string' and command.command:match('^uet%.') then
      if command.command == 'uet.runTask' then
        local line = lens.range.start.line
        if line <= row and (task == nil or line > task.line) then
          task = { line = line, command = command }
        end
      else
        table.insert(found, command)
      end
    end
  end
  if task then
    local id = task.command.arguments and task.command.arguments[2]
    local title = task.command.title
    if id and not title:find(id, 1, true) then title = title .. ' ' .. id end
    table.insert(found, vim.tbl_extend('force', task.command, { title = title }))
  end
  return found
end

--- `:Uet actions`: pick one of the run commands at the cursor (the current lenses of the
--- buffer, asked anew) with vim.ui.select and run it.
function M.pick(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = uet.clients(bufnr)[1]
  local commands = require('uet.commands')
  if not client then
    commands.notify('no UET language server for this buffer (see :Uet info)', vim.log.levels.WARN)
    return
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
  uet.call(client, 'request', 'textDocument/codeLens', params, function(err, lenses)
    if err then
      commands.notify('code lenses failed: ' .. tostring(err.message or err), vim.log.levels.ERROR)
      return
    end
    local found = commands_at(lenses, row)
    if #found == 0 then
      commands.notify('nothing to run here (run actions are offered in workstream files)')
      return
    end
    vim.ui.select(found, {
      prompt = 'UET run:',
      kind = 'uet_run_action',
      format_item = function(command) return command.title end,
    }, function(command)
      if command then commands.execute(command.command, command.arguments) end
    end)
  end, bufnr)
end

return M
