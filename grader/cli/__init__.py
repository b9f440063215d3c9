"""The command line: `app.py` composes one module per command group; `common.py` is what they share."""
