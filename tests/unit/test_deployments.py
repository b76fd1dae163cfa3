"""prefect.yaml: every deployment it lists loads into a runnable Prefect deployment."""

import pytest

from deployments.serve import read_specs, to_runner_deployment

SPECS = read_specs()


def test_prefect_yaml_declares_a_process_work_pool() -> None:
    import yaml

    from deployments.serve import ROOT

    document = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert document["definitions"]["work_pool"]["name"] == "promostack-process"


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_each_deployment_loads_with_its_schedules(spec) -> None:
    deployment = to_runner_deployment(spec)
    assert deployment.name == spec.name
    assert len(deployment.schedules or []) == len([s for s in spec.schedules if s.get("active") is not False])
