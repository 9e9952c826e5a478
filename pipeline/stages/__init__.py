"""One module per state of statemachine/pipeline.asl.json, named as the state; no stage imports another."""
