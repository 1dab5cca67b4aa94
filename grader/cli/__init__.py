"""The ``grade`` command: thin click commands over plain functions."""
