"""CLI commands, one module each (see mixkit.cli.COMMANDS)."""
