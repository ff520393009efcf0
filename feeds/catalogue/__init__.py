"""The catalogue: the SQLite store that remembers every source file and its parsed,
cleaned article between builds, so that a build reads only what changed.
Storage only: it neither renders nor decides what goes into a feed.
"""
