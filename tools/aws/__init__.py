"""AWS operations from this machine: deploy, `make validate`'s lint, executions of the deployed machine, the
stack's name and outputs, the template read as data."""
