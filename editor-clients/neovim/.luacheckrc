-- luacheck configuration for the Neovim plugin and its test (make test-editors runs it).
std = 'luajit'
globals = { 'vim' }
max_line_length = 120
