"""Report formats: pure functions from results to text. Nothing here grades."""
