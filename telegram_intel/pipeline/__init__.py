"""The work layer: what an asset, the CLI, the web UI or a bench does — read rows, call lib/ and models, write rows. No Dagster."""
