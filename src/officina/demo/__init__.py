"""``officina demo``: a sample company, written through the public APIs of every face."""
