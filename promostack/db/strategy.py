"""Tables of the signals strategy feature (models only; migration under migrations/versions/)."""

from __future__ import annotations

from promostack.db.models import Base  # noqa: F401
