"""Pure logic: features, estimator, metrics, gate decision, drift statistics, contract checks.

Nothing here reads or writes a file or talks to MLflow: each function takes data and settings
and returns a result, so it is tested with plain frames.
"""
