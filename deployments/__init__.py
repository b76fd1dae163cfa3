"""How flows run: `serve.py` serves every deployment of `prefect.yaml` in one process."""
