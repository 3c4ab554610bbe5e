-- uet.messages: shows what the server says (`window/showMessage`) without a hit-enter prompt.
--
-- Neovim's own handler writes the message as it comes: a long or multi-line text scrolls the
-- echo area and waits for Enter, and two messages in a row do too. Here every message becomes
-- ONE line that fits the echo area (vim.notify, so notification plugins still get it); when the
-- text does not fit, its parts (lines, or the `; `-separated problems of a refused run) go to a new
-- quickfix list and the line says `:copen`. The plugin shows each text once: callers use
-- M.show, and a run's summary is kept in :messages only here (uet.progress shows its end
-- line without keeping it).
local M = {}

local LEVELS = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }

--- Screen cells a message may use without a hit-enter prompt.
function M.width()
  local space = tonumber(vim.v.echospace) or 0
  if space <= 0 then space = vim.o.columns - 12 end
  return math.max(space, 20)
end

-- The parts of a text that does not fit: its lines, and within a line the problems the server
-- lists as `...: L:C problem; L:C problem` (a refused run), one per part.
local function parts_of(text)
  local parts = {}
  for _, line in ipairs(vim.split(text, '\n', { trimempty = true })) do
    local start = 1
    while true do
      local at = line:find('; %d+:%d+ ', start)
      if not at then break end
      table.insert(parts, line:sub(start, at - 1))
      start = at + 2
    end
    table.insert(parts, line:sub(start))
  end
  return parts
end

-- Neovim's own vim.notify raises an error message as an exception when it comes while a command
-- runs (e.g. during a synchronous format in BufWritePre): it would abort that command. A
-- notification plugin gets every level; without one, errors are echoed with ErrorMsg.
local function notify(line, level)
  local source = debug.getinfo(vim.notify, 'S').source or ''
  if level == vim.log.levels.ERROR and source:find('vim/_editor.lua', 1, true) then
    vim.api.nvim_echo({ { line, 'ErrorMsg' } }, true, {})
  else
    vim.notify(line, level)
  end
end

-- `text` cut to `width` screen cells, ending in `tail`.
local function fit(text, width, tail)
  tail = tail or ''
  if vim.fn.strdisplaywidth(text .. tail) <= width then return text .. tail end
  local room = width - vim.fn.strdisplaywidth(tail) - 1
  local cut = text
  while #cut > 0 and vim.fn.strdisplaywidth(cut) > room do
    cut = vim.fn.strcharpart(cut, 0, vim.fn.strchars(cut) - 1)
  end
  return cut .. '…' .. tail
end

--- Show `text` as one line (prefixed `[uet] `) at `level`; returns the line shown. A text that
--- does not fit leaves its parts in a new quickfix list titled with the text's first part.
function M.show(text, level)
  level = level or vim.log.levels.INFO
  text = tostring(text):gsub('^UET: ', ''):gsub('%s+$', '')
  local line = '[uet] ' .. text
  local width = M.width()
  if not text:find('\n', 1, true) and vim.fn.strdisplaywidth(line) <= width then
    notify(line, level)
    return line
  end
  local parts = parts_of(text)
  local items = vim.fn.getqflist({
    lines = parts,
    efm = '%f:%l:%c: %m,%f:%l: %m,%m',
  }).items
  for _, item in ipairs(items) do
    item.type = level == vim.log.levels.ERROR and 'E' or (level == vim.log.levels.WARN and 'W' or 'I')
  end
  vim.fn.setqflist({}, ' ', { title = 'uet: ' .. parts[1], items = items })
  local tail = #parts > 1 and string.format(' (%d in :copen)', #parts) or ' (:copen)'
  line = fit('[uet] ' .. parts[1]:gsub('%s+', ' '), width, tail)
  notify(line, level)
  return line
end

--- `window/showMessage` handler: the server's message through M.show.
function M.handler(_, result)
  if type(result) ~= 'table' or result.message == nil then return vim.NIL end
  M.show(result.message, LEVELS[result.type] or vim.log.levels.INFO)
  return vim.NIL
end

return M
