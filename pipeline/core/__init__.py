"""The floor: typed errors, settings, JSON logging and CloudWatch EMF lines. Imports nothing else of pipeline."""
