"""Landing a week: the contract's checks, the week-on-week checks and ingest. Run by the CLI (with --target aws
too, from the user's machine), never by a Lambda or task: the images leave it out."""
