"""The web app starts on embedded defaults and serves its home page."""

from starlette.testclient import TestClient

from webapp.app import create_app


def test_home_page_is_served(settings) -> None:
    with TestClient(create_app(settings)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "PromoStack" in page.text
        assert client.get("/healthz").json() == {"status": "ok"}
