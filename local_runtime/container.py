"""Run a container entrypoint the way Fargate would, against the local stand-ins:

    python -m local_runtime.container containers.training.entrypoint

installs the local services in this process, then runs the entrypoint module as `__main__`, unchanged.
"""
import runpy
import sys

from local_runtime.services import install_local_host

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m local_runtime.container MODULE")
    install_local_host()
    runpy.run_module(sys.argv[1], run_name="__main__", alter_sys=True)
