"""The published tree: where every file lives and the ids readers keep (urls), writing it
atomically (writer), reading it back for the server (reader), and the builder's status
kept beside it. Shared by the builder, which writes it, and the web app, which reads it.
"""
