"""PNG charts as Markdown for asset metadata: pure rendering of the numbers handed in."""
