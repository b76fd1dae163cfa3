"""Generation events are written once, even when the write is retried."""

from sqlalchemy import func, select

from promostack.db import GenerationEvent, session_scope
from promostack.db.generations import GenerationRecord, record_generation, record_generations


def _count(runtime) -> int:
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(GenerationEvent))


def test_writing_the_same_record_twice_stores_one_event(runtime) -> None:
    record = GenerationRecord(channel="api", user_ref="u1", template_slug="gold", coupon_code="X1", success=True)
    record_generation(runtime.sessions, record)
    record_generation(runtime.sessions, record)  # a retry after the first commit's answer was lost
    assert _count(runtime) == 1


def test_a_batch_retried_after_partial_success_adds_only_the_missing_events(runtime) -> None:
    records = [
        GenerationRecord(channel="bulk", user_ref="job:a", template_slug="gold", coupon_code=f"C{i}", success=True)
        for i in range(5)
    ]
    record_generations(runtime.sessions, records[:3])
    record_generations(runtime.sessions, records)
    with session_scope(runtime.sessions) as session:
        codes = sorted(session.scalars(select(GenerationEvent.coupon_code)))
    assert codes == ["C0", "C1", "C2", "C3", "C4"]


def test_distinct_attempts_are_distinct_events(runtime) -> None:
    for _ in range(2):
        record_generation(
            runtime.sessions, GenerationRecord(channel="web", user_ref=None, template_slug="gold", coupon_code="X", success=False)
        )
    assert _count(runtime) == 2
