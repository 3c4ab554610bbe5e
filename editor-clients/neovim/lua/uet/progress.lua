-- uet.progress: shows the server's work-done progress (indexing, workstream runs) without
-- any other plugin: in the echo area, through vim.notify, or through a user function.
--
-- The handler wraps Neovim's own `$/progress` handler, so statusline components that read
-- vim.lsp.util.get_progress_messages() (0.7-0.9) or vim.lsp.status() (0.10+) keep working.
local config = require('uet.config')

local M = {}

-- token -> title of the begin message, so report/end lines can name what they belong to
local titles = {}

-- Neovim's own handler, captured before anyone (nvim-lspconfig users, see :help
-- uet-lspconfig) installs this module's handler globally in its place.
local default_handler = vim.lsp.handlers['$/progress']

--- One line of text for a progress event.
function M.format(event)
  local text = '[uet] ' .. (event.title or 'working')
  if event.message and event.message ~= '' then text = text .. ': ' .. event.message end
  if event.kind ~= 'end' and type(event.percentage) == 'number' then
    text = text .. string.format(' (%d%%)', event.percentage)
  end
  if event.kind == 'end' and (event.message == nil or event.message == '') then
    text = text .. ': done'
  end
  return text
end

--- Whether a progress token is a workstream run's (`uet/runStatus` documents the prefix).
function M.is_run(token)
  return type(token) == 'string' and vim.startswith(token, 'uet-run-')
end

local function show(event)
  local how = config.get().progress
  if how == false then return end
  if type(how) == 'function' then
    how(event)
    return
  end
  -- A run's summary also comes as a server message (uet.messages), which keeps it: showing
  -- the end here as well would put it twice in :messages or the notification history.
  local run_end = event.kind == 'end' and M.is_run(event.token)
  local text = M.format(event)
  if how == 'notify' then
    if not run_end then vim.notify(text, vim.log.levels.INFO, { title = 'uet' }) end
    return
  end
  -- echo: begin/report replace each other quietly; the end line stays in :messages
  local width = require('uet.messages').width()
  if vim.fn.strdisplaywidth(text) > width then
    text = vim.fn.strcharpart(text, 0, width - 1) .. '…'
  end
  vim.api.nvim_echo({ { text } }, event.kind == 'end' and not run_end, {})
end

--- `$/progress` handler: Neovim's default bookkeeping, then our rendering.
function M.handler(err, result, ctx, handler_config)
  -- the global handler (Neovim's, or a progress plugin's), unless it is this one
  local global = vim.lsp.handlers['$/progress']
  local delegate = (global ~= M.handler) and global or default_handler
  local returned
  if delegate then returned = delegate(err, result, ctx, handler_config) end
  if err or type(result) ~= 'table' or type(result.value) ~= 'table' then return returned end
  local value = result.value
  local token = result.token
  if value.kind == 'begin' then titles[token] = value.title end
  local event = {
    client_id = ctx.client_id,
    token = token,
    kind = value.kind,
    title = value.title or titles[token],
    message = value.message,
    percentage = value.percentage,
    cancellable = value.cancellable,
  }
  if value.kind == 'end' then titles[token] = nil end
  vim.schedule(function() show(event) end)
  return returned
end

return M
