-- uet.bootstrap: `:Uet bootstrap` in any project, with a preview before anything is written.
--
-- Starts the server for the project on demand (uet.start_for: a folder with .git,
-- pyproject.toml, package.json ... and no UET file yet), asks it for the plan
-- (`uet.previewBootstrap`, which writes nothing), lets the user pick a profile when the
-- ranking is ambiguous, shows the files in a scratch buffer and applies the plan
-- (`uet.bootstrap`) only once the user says so. The server sends the files as one
-- `workspace/applyEdit`; M.apply_edit_handler applies it (creating the folders Neovim 0.7
-- does not) and saves what the bootstrap wrote. Servers without the preview command get
-- `uet.bootstrap` directly.
local uet = require('uet')
local commands = require('uet.commands')

local M = {}

local PREVIEW = 'uet.previewBootstrap'
local BOOTSTRAP = 'uet.bootstrap'
-- how the server labels the edit of a bootstrap (docs/lsp-extensions.md)
local LABEL = '^UET: bootstrap '

local function offers(client, command)
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  return type(provider) == 'table' and vim.tbl_contains(provider.commands or {}, command)
end

local function line_count(text)
  if text == nil or text == vim.NIL or text == '' then return 0 end
  local _, newlines = text:gsub('\n', '')
  return newlines + (text:sub(-1) == '\n' and 0 or 1)
end

--- The lines of the preview buffer for a `uet.previewBootstrap` result.
function M.preview_lines(plan)
  local lines = { (tostring(plan.message or ''):gsub('^UET: ', '')), '' }
  local writes = 0
  for _, file in ipairs(plan.files or {}) do
    local detail = ''
    if file.action == 'create' or file.action == 'overwrite' then
      detail = string.format('%d lines', line_count(file.text))
    elseif file.action == 'update' then
      detail = string.format('%d lines, was %d', line_count(file.text), line_count(file.previousText))
    end
    if detail ~= '' then
      writes = writes + 1
      detail = '  (' .. detail .. ')'
    end
    table.insert(lines, string.format('  %-9s %s%s', file.action, file.path, detail))
  end
  for _, problem in ipairs(plan.problems or {}) do
    table.insert(lines, string.format('  %s: %s%s', problem.level, problem.path and (problem.path .. ': ') or '',
      problem.message))
  end
  for _, file in ipairs(plan.files or {}) do
    if type(file.text) == 'string' and file.text ~= '' then
      table.insert(lines, '')
      table.insert(lines, string.format('==> %s (%s)%s', file.path, file.action,
        file.truncated and ', cut short' or ''))
      vim.list_extend(lines, vim.split(file.text:gsub('\n$', ''), '\n', { plain = true }))
    end
  end
  return lines, writes
end

-- A scratch window showing the preview; returns its window.
local function show_preview(plan)
  local lines = M.preview_lines(plan)
  vim.cmd('botright new')
  local win = vim.api.nvim_get_current_win()
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].buftype = 'nofile'
  vim.bo[bufnr].bufhidden = 'wipe'
  vim.bo[bufnr].swapfile = false
  pcall(vim.api.nvim_buf_set_name, bufnr, 'uet://bootstrap-preview')
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  vim.cmd('redraw')
  return win
end

local function close(win)
  if win and vim.api.nvim_win_is_valid(win) and #vim.api.nvim_list_wins() > 1 then
    vim.api.nvim_win_close(win, true)
  end
end

local function profile_label(profile)
  return string.format('%s (%.2f)%s', profile.profileId, tonumber(profile.score) or 0,
    profile.summary and ('  ' .. profile.summary) or '')
end

local function preview(client, profile_id, folder_uri)
  commands.execute(PREVIEW, { profile_id or vim.NIL, folder_uri }, function(err, plan)
    if err or type(plan) ~= 'table' then return end
    if plan.ambiguous and profile_id == nil and #(plan.profiles or {}) > 1 then
      vim.ui.select(plan.profiles, {
        prompt = 'Bootstrap with which UET profile?',
        kind = 'uet_profile',
        format_item = profile_label,
      }, function(profile)
        if profile then preview(client, profile.profileId, folder_uri) end
      end)
      return
    end
    local _, writes = M.preview_lines(plan)
    if plan.ok and writes == 0 then
      commands.notify(plan.message)
      return
    end
    local win = show_preview(plan)
    if not plan.ok then
      commands.notify(plan.message, vim.log.levels.ERROR)
      return
    end
    local apply = string.format('Write %d file(s) as %s', writes, plan.profileId)
    vim.ui.select({ apply, 'Cancel' }, { prompt = 'UET bootstrap:', kind = 'uet_bootstrap' }, function(choice)
      close(win)
      if choice ~= apply then
        commands.notify('bootstrap canceled: nothing written')
        return
      end
      local command = plan.apply or { command = BOOTSTRAP, arguments = { plan.profileId, folder_uri } }
      -- the server shows the outcome itself
      commands.execute(command.command, command.arguments, function() end, client)
    end)
  end, client)
end

--- `:Uet bootstrap [profile]` (client nil: the buffer's, else one started for the project),
--- and the bootstrap code actions: preview, confirm, apply.
function M.run(client, profile_id, folder_uri)
  if profile_id == vim.NIL then profile_id = nil end
  if folder_uri == vim.NIL then folder_uri = nil end
  if not client then
    client = uet.clients(0)[1]
    if not client then
      local root = uet.project_root()
      client = uet.start_for(root)
      if not client then
        commands.notify('could not start the UET language server for ' .. root .. ' (see :Uet info)',
          vim.log.levels.ERROR)
        return
      end
    end
  end
  folder_uri = folder_uri or vim.uri_from_fname(client.config.root_dir)
  if not offers(client, PREVIEW) then
    commands.execute(BOOTSTRAP, { profile_id or vim.NIL, folder_uri }, function() end, client)
    return
  end
  preview(client, profile_id, folder_uri)
end

--- `workspace/applyEdit` handler: applies the edit (a bootstrap's CreateFile needs its folder,
--- which Neovim 0.7 does not make) without echoing its label, and saves the files of a
--- bootstrap, which the user already confirmed.
function M.apply_edit_handler(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or type(params) ~= 'table' or type(params.edit) ~= 'table' then
    return { applied = false, failureReason = 'no client or no edit' }
  end
  local bootstrap = type(params.label) == 'string' and params.label:match(LABEL) ~= nil
  local uris = {}
  for _, change in ipairs(params.edit.documentChanges or {}) do
    local uri = change.uri or (change.textDocument and change.textDocument.uri)
    if change.kind == 'create' then
      vim.fn.mkdir(vim.fn.fnamemodify(vim.uri_to_fname(uri), ':h'), 'p')
    end
    if uri and not vim.tbl_contains(uris, uri) then table.insert(uris, uri) end
  end
  local ok, failure = pcall(vim.lsp.util.apply_workspace_edit, params.edit, client.offset_encoding)
  if not ok then return { applied = false, failureReason = tostring(failure) } end
  if bootstrap then
    for _, uri in ipairs(uris) do
      local bufnr = vim.uri_to_bufnr(uri)
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].modified then
        vim.api.nvim_buf_call(bufnr, function() vim.cmd('silent write') end)
      end
    end
  end
  return { applied = true }
end

return M
