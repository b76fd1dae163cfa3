"""Prefect flows: one module per flow; they orchestrate tasks and decide nothing else."""
