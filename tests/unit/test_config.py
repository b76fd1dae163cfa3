"""Settings: precedence of database settings, masking of secrets, embedded defaults."""

from pathlib import Path

from tests.conftest import make_settings


def test_database_url_wins_over_db_parts(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql://u:p@db.example:5433/prod", db_host="other")
    assert settings.sqlalchemy_url == "postgresql+psycopg2://u:p@db.example:5433/prod"


def test_db_parts_build_a_postgres_url_with_escaped_password(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, db_host="pg", db_name="promo", db_user="app", db_password="p@ss/word")
    assert settings.sqlalchemy_url == "postgresql+psycopg2://app:p%40ss%2Fword@pg:5432/promo"


def test_without_database_settings_sqlite_under_data_dir_is_used(tmp_path: Path) -> None:
    assert make_settings(tmp_path).sqlalchemy_url == f"sqlite:///{tmp_path / 'promostack.db'}"


def test_secrets_are_masked_in_repr_and_str(tmp_path: Path) -> None:
    token = "123456789" + ":" + "AAExampleSecretTokenThatMustNotLeak00"  # split: no secret-shaped literal
    settings = make_settings(tmp_path, telegram_bot_token=token, admin_password="hunter2", stripe_secret_key="sk_x")
    shown = repr(settings) + str(settings)
    assert token not in shown and "hunter2" not in shown and "sk_x" not in shown
    assert settings.telegram_bot_token.get_secret_value() == token


def test_test_bot_token_selects_the_test_bot(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, telegram_bot_token="1:prod", telegram_bot_token_test="2:test")
    assert settings.promo_bot_token.get_secret_value() == "2:test"


def test_settings_read_environment_variables(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SPACES_BUCKET", "promo-assets")
    monkeypatch.setenv("FUNDERPRO_PRODUCT_ID", "prod-42")
    settings = make_settings(tmp_path)
    assert settings.uses_s3 and settings.coupon_backend == "funderpro"
