"""The sources stage: find the article files, read their bytes, decode them and parse the
front matter into a ParsedArticle. Nothing here knows about HTML cleaning or feeds.
"""
