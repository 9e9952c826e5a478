"""The assistant: plain-language questions answered by a model that writes read-only Athena SQL over the
`engagement` tables (guard.py says what it may run), in a bounded tool-use loop (loop.py), on Bedrock or any
OpenAI-compatible server (models.py)."""
