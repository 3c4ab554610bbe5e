-- Loaded at start-up: nothing starts until require('uet').setup() runs (see :help uet-setup).
-- Until then `:Uet` exists only to say so, so a missing setup() call is easy to spot.
if vim.g.loaded_uet then return end
vim.g.loaded_uet = true

if vim.fn.exists(':Uet') == 0 then
  vim.api.nvim_create_user_command('Uet', function()
    vim.notify("[uet] call require('uet').setup() first (see :help uet-setup)", vim.log.levels.WARN)
  end, { nargs = '*' })
end
