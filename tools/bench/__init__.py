"""`make bench`: the timed run, the bare baseline, the AWS cost and the projection to larger weeks."""
