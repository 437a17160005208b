"""The autograder of cnnexercises: checks, loading, isolation, reports and the `cnnex` CLI."""

__version__ = "0.1.0"
