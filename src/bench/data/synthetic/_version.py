"""Version of the synthetic generators' output (part of every cache key)."""

#: Bump whenever any generator's output changes for the same arguments.
GENERATOR_VERSION = "1.0.0"
