"""The warehouse: the input contract, the table definitions, where every object lives, the ports that hide the
runtime, Parquet and JSON objects, atomic publication and the shipped SQL."""
