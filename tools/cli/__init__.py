"""The command line (`engagement-pipeline`): it parses, calls and prints."""
