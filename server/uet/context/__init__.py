"""Context for AI tools: repo map, code search and memory (planned; see docs/ARCHITECTURE.md)."""
