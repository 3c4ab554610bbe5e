"""Context for AI tools: the repository map (tree-sitter tags ranked by PageRank).

Plain Python; imports only ``uet.artifacts`` (its file walker) among first-party packages.
"""
