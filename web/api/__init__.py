"""One module per API resource, each defining its blueprint ``blp``."""
