-- One start-up measurement in headless Neovim for benchmarks/editor_startup.py: `:edit` a
-- broken workstream and wait until vim.diagnostic.get() returns its diagnostics, server start
-- included. Environment (set by editor_startup.py):
--   BENCH_SERVER  'uet' (the plugin, `uet` on $PATH) or 'yaml' (yaml-language-server through
--                 vim.lsp.start, or start_client + buf_attach_client on 0.7)
--   BENCH_FILE    the file to open;  BENCH_ROOT  its workspace root
--   BENCH_YAML_LS the yaml-language-server executable; BENCH_SCHEMA  the JSON schema it applies
-- Prints one JSON line: the milliseconds from `:edit` to `initialize` answered (Neovim lists
-- the client as attached to the buffer from then on) and to the first diagnostics, and how
-- many there were (or an error).
local started = vim.loop.hrtime()
local function ms() return (vim.loop.hrtime() - started) / 1e6 end

local function finish(result)
  io.stdout:write(vim.json.encode(result) .. '\n')
  io.stdout:flush()
  os.exit(result.error and 1 or 0)
end

local server = os.getenv('BENCH_SERVER')
local file = assert(os.getenv('BENCH_FILE'), 'BENCH_FILE not set')
local root = assert(os.getenv('BENCH_ROOT'), 'BENCH_ROOT not set')
vim.cmd('filetype on')

local client_name
if server == 'uet' then
  vim.cmd('runtime plugin/uet.lua')
  require('uet').setup({})
  client_name = 'uet'
else
  client_name = 'yamlls'
  local schema = 'file://' .. assert(os.getenv('BENCH_SCHEMA'), 'BENCH_SCHEMA not set')
  local config = {
    name = client_name,
    cmd = { assert(os.getenv('BENCH_YAML_LS'), 'BENCH_YAML_LS not set'), '--stdio' },
    root_dir = root,
    settings = {
      yaml = { validate = true, schemaStore = { enable = false }, schemas = { [schema] = '*.yaml' } },
    },
  }
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'yaml',
    callback = function(args)
      if vim.lsp.start then
        vim.lsp.start(config, { bufnr = args.buf })
      else
        local id = vim.lsp.start_client(config)
        vim.lsp.buf_attach_client(args.buf, id)
      end
    end,
  })
end

local function client_of(bufnr)
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr })
    or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == client_name then return client end
  end
end

started = vim.loop.hrtime()
vim.cmd('edit ' .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()
local result = {}
if not vim.wait(20000, function() return client_of(bufnr) ~= nil end, 1) then
  finish({ error = 'no ' .. client_name .. ' client attached within 20 s' })
end
local client = client_of(bufnr)
vim.wait(20000, function() return client.initialized == true end, 1)
result.initialized_ms = ms()
if not vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 1) then
  finish({ error = 'no diagnostics within 20 s', initialized_ms = result.initialized_ms })
end
result.diagnostics_ms = ms()
result.diagnostics = #vim.diagnostic.get(bufnr)
result.first = vim.diagnostic.get(bufnr)[1].message
finish(result)
