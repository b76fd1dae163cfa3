"""The template-sync plan: newest wins per template, in both directions."""

from datetime import datetime, timedelta, timezone

from promostack.templates.schema import TemplateMeta
from promostack.templates.sync import plan_sync

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def meta(slug: str, *, minutes: int = 0, version: int = 1) -> TemplateMeta:
    return TemplateMeta(
        slug=slug,
        name=slug.title(),
        image_key=f"templates/{slug}/bg.png",
        width=100,
        height=100,
        text_areas=[{"id": "code", "box": {"x": 0, "y": 0, "w": 10, "h": 10}}],
        version=version,
        updated_at=T0 + timedelta(minutes=minutes),
    )


def test_template_only_in_the_mirror_is_pushed() -> None:
    plan = plan_sync({"a": meta("a")}, {})
    assert [(a.slug, a.direction) for a in plan.actions] == [("a", "push")]


def test_template_only_in_storage_is_pulled() -> None:
    plan = plan_sync({}, {"b": meta("b")})
    assert [(a.slug, a.direction) for a in plan.pulls] == [("b", "pull")]


def test_newer_mirror_copy_is_pushed_and_newer_storage_copy_is_pulled() -> None:
    local = {"a": meta("a", minutes=5, version=3), "b": meta("b", minutes=1)}
    remote = {"a": meta("a", minutes=1, version=2), "b": meta("b", minutes=9, version=4)}
    plan = plan_sync(local, remote)
    assert [(a.slug, a.direction, a.reason) for a in plan.actions] == [
        ("a", "push", "newer in the mirror"),
        ("b", "pull", "newer in storage"),
    ]


def test_identical_templates_are_in_step_and_not_copied() -> None:
    plan = plan_sync({"a": meta("a", minutes=2)}, {"a": meta("a", minutes=2)})
    assert plan.actions == [] and plan.in_step == ["a"]


def test_same_time_higher_version_wins() -> None:
    plan = plan_sync({"a": meta("a", version=2)}, {"a": meta("a", version=3)})
    assert [(a.direction, a.local_version, a.remote_version) for a in plan.actions] == [("pull", 2, 3)]


def test_plan_covers_every_slug_once() -> None:
    local = {"a": meta("a"), "c": meta("c", minutes=1)}
    remote = {"b": meta("b"), "c": meta("c")}
    plan = plan_sync(local, remote)
    assert sorted(a.slug for a in plan.actions) + plan.in_step == ["a", "b", "c"]


def test_template_deleted_in_storage_after_its_last_change_is_deleted_from_the_mirror() -> None:
    plan = plan_sync({"a": meta("a", minutes=1)}, {}, remote_deleted={"a": T0 + timedelta(minutes=5)})
    assert [(a.slug, a.direction, a.kind) for a in plan.actions] == [("a", "pull", "delete")]


def test_template_deleted_in_the_mirror_is_deleted_from_storage() -> None:
    plan = plan_sync({}, {"a": meta("a")}, local_deleted={"a": T0 + timedelta(minutes=1)})
    assert [(a.slug, a.direction, a.kind, a.reason) for a in plan.actions] == [
        ("a", "push", "delete", "deleted in the mirror")
    ]


def test_template_changed_after_the_other_side_deleted_it_is_copied_back() -> None:
    plan = plan_sync({"a": meta("a", minutes=10)}, {}, remote_deleted={"a": T0 + timedelta(minutes=5)})
    assert [(a.slug, a.direction, a.kind) for a in plan.actions] == [("a", "push", "copy")]
