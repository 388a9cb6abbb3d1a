"""Primitive ops: each a ``Function`` with forward and backward written together on arrays."""
