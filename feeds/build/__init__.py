"""The build stage: bring the catalogue up to date (ingest, with worker processes), choose
every feed's entries, schedule archives, render and write the tree, report what happened.
"""
