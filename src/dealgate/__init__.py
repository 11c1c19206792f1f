"""dealgate: objective stage exit criteria for sales pipelines."""

# Kept here (and read by the build) rather than asked of importlib.metadata at start-up,
# which costs a rep's `dealgate check` tens of milliseconds.
__version__ = "0.1.0"
