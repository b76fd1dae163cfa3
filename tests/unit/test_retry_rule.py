"""Which failures a task retries: what a dependency broke, never what the caller sent or a missing object."""

from types import SimpleNamespace

import pytest

from promostack.errors import DependencyError, InvalidInput
from promostack.storage import ObjectNotFound, StorageError
from tasks.retries import retry_on_dependency_error


def _failed_with(error: BaseException) -> SimpleNamespace:
    return SimpleNamespace(data=error)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (DependencyError("the coupon API timed out"), True),
        (StorageError("S3 answered 503"), True),
        (ObjectNotFound("no object 'renders/x.png'"), False),
        (InvalidInput("texts.headline: too long"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_outages_are_retried(error: BaseException, retried: bool) -> None:
    assert retry_on_dependency_error(None, None, _failed_with(error)) is retried


def test_a_missing_object_is_a_404_not_an_outage() -> None:
    missing = ObjectNotFound("no object 'templates/x/meta.json'")
    assert (missing.status, missing.kind) == (404, "not_found")
    assert StorageError("unreachable").status == 503
