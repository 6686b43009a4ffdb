"""Rate limits answer 429 with a Retry-After that is honest (waiting that long is enough), and API tokens expire.

Each test starts its own service (real process on loopback) with the limits it needs."""

import time

import pytest
import requests

from fanremix.local_service import LocalService
from fanremix.service.limits import SECURITY_HEADERS
from tests.service.conftest import PASSWORD, client_for, unique


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def strict_service(tmp_path):
    args = ("--rate-per-minute", "60", "--rate-burst", "3", "--auth-rate-per-minute", "60", "--auth-rate-burst", "4")
    with LocalService.start(tmp_path / "strict", service_args=args) as running:
        yield running


def test_an_account_over_its_rate_gets_429_with_an_honest_retry_after(strict_service) -> None:
    with client_for(strict_service) as client:
        client.register(unique("rate-fan"), PASSWORD)
        url = f"{strict_service.url}/v1/accounts/me"
        answers = [requests.get(url, headers=bearer(client.token), timeout=10) for _ in range(4)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        limited = answers[3]
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        wait = int(limited.headers["Retry-After"])
        assert 1 <= wait <= 60
        for name, value in SECURITY_HEADERS:
            assert limited.headers[name.decode()] == value.decode()
        time.sleep(wait)
        assert requests.get(url, headers=bearer(client.token), timeout=10).status_code == 200


def test_password_guessing_is_limited_per_address(strict_service) -> None:
    with client_for(strict_service) as client:
        name = unique("rate-victim")
        client.register(name, PASSWORD)  # one of the address's 4
    url = f"{strict_service.url}/v1/tokens"
    guesses = [requests.post(url, json={"name": name, "password": f"guess {i}"}, timeout=10) for i in range(4)]
    assert [g.status_code for g in guesses[:3]] == [401, 401, 401]
    assert guesses[3].status_code == 429 and "Retry-After" in guesses[3].headers


def test_tokens_expire(tmp_path) -> None:
    lifetime_s = 3.0
    args = ("--token-lifetime-days", str(lifetime_s / 86400), "--auth-rate-burst", "100")
    with LocalService.start(tmp_path / "expiring", service_args=args) as service, client_for(service) as client:
        name = unique("expiring-fan")
        client.register(name, PASSWORD)
        url = f"{service.url}/v1/accounts/me"
        assert requests.get(url, headers=bearer(client.token), timeout=10).status_code == 200
        time.sleep(lifetime_s + 0.5)
        expired = requests.get(url, headers=bearer(client.token), timeout=10)
        assert expired.status_code == 401 and expired.json()["code"] == "auth.token_expired"
        assert "Sign in again" in expired.json()["message"]
        client.login(name, PASSWORD)  # signing in again gives a new token that works
        assert requests.get(url, headers=bearer(client.token), timeout=10).status_code == 200
