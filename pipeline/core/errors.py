"""Typed errors that carry what a user needs to fix the input or the run."""


class PipelineError(Exception):
    """Base class: every error the pipeline raises on purpose."""


class ContractError(PipelineError):
    """An input file breaks the input contract (names the file, column, rule and row count)."""


class DataQualityError(PipelineError):
    """The landed data cannot produce an honest run (e.g. too few weeks, a missing week)."""


class ConfigError(PipelineError):
    """The pipeline is configured inconsistently (bad environment variable, unknown runtime)."""


class QueryError(PipelineError):
    """A SQL query could not be parsed or run."""


class EventError(PipelineError):
    """A Lambda event, container environment or execution input is malformed (names every bad field)."""


class ModelCallError(PipelineError):
    """The assistant's language model could not be reached or answered out of shape (names the backend)."""


class ModelStoreError(PipelineError):
    """A model version is missing, unfinished or damaged in the model store (names the file)."""


class CatalogLostError(PipelineError):
    """Storage holds data the catalog does not list: acting on the catalog would delete it."""


class CatalogDamagedError(PipelineError):
    """The catalog's own file cannot be read (truncated, empty, wrong-shaped, unreadable): names the file, what is
    wrong, and the repair that sets it aside and rebuilds it."""

    def __init__(self, path: str, problem: str):
        super().__init__(path, problem)  # both as args, so the error pickles like any other
        self.path, self.problem = path, problem

    def __str__(self) -> str:
        return (f"the catalog {self.path} is damaged: {self.problem}. Nothing was written to it. Set it aside and "
                "rebuild it from the publication records: engagement-pipeline doctor --repair")
