"""MCP server over the derived data (read-only tools)."""
