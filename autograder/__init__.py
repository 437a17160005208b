"""The autograder of cnnexercises: checks, loading, isolation, reports and the `cnnex` CLI."""

from cnnexercises.quiet import silence_tensorflow

silence_tensorflow()  # before anything here can import TensorFlow: its logs are not feedback

__version__ = "0.1.0"
