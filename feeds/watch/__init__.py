"""Long-running rebuilds: the watcher (rescans plus file events) and WebSub pings to a hub."""
