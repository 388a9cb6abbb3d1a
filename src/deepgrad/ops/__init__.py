"""Primitive ops: each an ``Op`` with forward and backward written together on arrays."""
