"""The production package: what the Lambda and Fargate images run. Its wings, along the data's path (a wing
imports only the wings before it; tests/test_import_graph.py holds the order):

  core       errors, settings, JSON logs and CloudWatch EMF lines: the floor every wing stands on
  warehouse  the input contract, the tables (glue/), where objects live, the runtime's ports, atomic publication,
             the shipped SQL
  execution  a run's identity, the events its handlers receive, its attempt, the week lock
  landing    the contract's checks, the week-on-week checks, ingest (run by the CLI only, so not in the images)
  model      features, the booster's fit, the scorer, calibration, quality, champion, drift, explanations, the store
  results    the analyst tables' rows: data quality, run history, weekly summary, scored rows, the run report
  stages     one module per state of statemachine/pipeline.asl.json; no stage imports another
  aws        the AWS adapters of the ports (S3, Glue, Athena, Step Functions)
  edge       the door of every handler and entrypoint, the host that picks the adapters, fault injection
"""
