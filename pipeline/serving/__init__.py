"""Serving the published scores: the store the weekly run loads, and the API that reads it."""
