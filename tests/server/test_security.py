"""The security middleware on its own (ASGI messages in, messages out, no socket): each check refuses exactly the
near-misses of a valid request, and a valid one reaches the app untouched. Fast enough to be the mutation run's
test set for ``ldl_backend/server/security.py`` (tests/MUTATION.md)."""

from __future__ import annotations

import pytest

from ldl_backend.server.security import allowed_hosts
from tests.server.security_exchange import HOST, MAX_BODY, PORT, TOKEN, Exchange, exchange, valid_headers


def assert_refused(result: Exchange, status: int, code: str) -> None:
    assert not result.app_called
    assert result.status == status, result.sent
    error = result.error
    assert error["code"] == code and error["message"] and error["hint"], error
    assert result.headers[b"content-type"] == b"application/json"
    assert result.headers[b"content-length"] == str(len(result.sent[1]["body"])).encode()
    assert (b"www-authenticate" in result.headers) == (status == 401)
    if status == 401:
        assert result.headers[b"www-authenticate"] == b"Bearer"


def test_a_valid_request_reaches_the_app_with_its_body() -> None:
    result = exchange(chunks=[b"ab", b"cd"])
    assert result.app_called and result.scope_passed_on and result.status == 200 and result.app_body == b"abcd"


def test_a_scope_without_a_query_string_passes() -> None:
    # ASGI servers always send one; the middleware does not depend on it.
    assert exchange(with_query=False).scope_passed_on


@pytest.mark.parametrize(
    "authorization",
    [
        b"bearer " + TOKEN.encode(),  # the scheme is case-insensitive (RFC 9110)
        b"BEARER " + TOKEN.encode(),
        b"Bearer  " + TOKEN.encode() + b" ",  # spaces around the credential are not part of it
    ],
)
def test_spellings_of_the_valid_token_are_accepted(authorization: bytes) -> None:
    assert exchange(valid_headers(authorization)).app_called


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer " + TOKEN.encode() + b"x",  # the token with a suffix
        b"Bearer " + TOKEN.encode() + b"x" * 64,
        b"Bearer " + TOKEN[:-1].encode(),  # a prefix of it
        b"Bearer " + TOKEN[:1].encode(),
        b"Bearer " + TOKEN[1:].encode(),  # a suffix of it
        b"Bearer " + TOKEN.upper().encode(),  # the token is case-sensitive
        b"Bearer ",  # empty: a prefix of every token
        b"Bearer",
        b"",
        TOKEN.encode(),  # no scheme
        b"Basic " + TOKEN.encode(),  # another scheme
        b"Bearerx " + TOKEN.encode(),
        b"Token " + TOKEN.encode(),
        b"Bearer" + TOKEN.encode(),  # no space: one word
    ],
)
def test_near_misses_of_the_token_are_refused(authorization: bytes) -> None:
    assert_refused(exchange(valid_headers(authorization)), 401, "unauthorized")


def test_no_authorization_header_is_refused() -> None:
    assert_refused(exchange([(b"host", HOST.encode())]), 401, "unauthorized")


@pytest.mark.parametrize("second", [b"Bearer " + TOKEN.encode(), b"Bearer wrong", b""])
def test_a_second_authorization_header_is_refused(second: bytes) -> None:
    # Two headers, the valid one first or second: a proxy and the server could each read a different one.
    assert_refused(exchange([*valid_headers(), (b"authorization", second)]), 401, "unauthorized")
    assert_refused(exchange([(b"authorization", second), *valid_headers()]), 401, "unauthorized")


@pytest.mark.parametrize(
    "query",
    [
        b"token=x",
        b"TOKEN=",
        b"access_token=x",
        b"auth=1",
        b"Authorization=x",
        b"bearer=x",
        b"api_key=x",
        b"apikey=x",
        b"key=x",
        b"model=a&token=x",
        b"model=" + TOKEN.encode(),  # the token's value under any name
        b"a=1&b=" + TOKEN.encode(),
    ],
)
def test_credentials_in_the_query_are_refused_even_with_a_valid_header(query: bytes) -> None:
    assert_refused(exchange(query=query), 401, "unauthorized")


@pytest.mark.parametrize(
    "query", [b"", b"model=x&reference=lanczos", b"tokens=1", b"keys=x", b"m=" + TOKEN[:-1].encode()]
)
def test_ordinary_queries_pass(query: bytes) -> None:
    assert exchange(query=query).app_called


@pytest.mark.parametrize("host", [HOST, f"localhost:{PORT}", f"[::1]:{PORT}", f"LOCALHOST:{PORT}"])
def test_loopback_hosts_pass(host: str) -> None:
    assert exchange([(b"host", host.encode()), *valid_headers()[1:]]).app_called


@pytest.mark.parametrize(
    "hosts",
    [
        [],
        [b"evil.example"],
        [f"127.0.0.1:{PORT + 1}".encode()],
        [b"127.0.0.1"],
        [f"127.0.0.1:{PORT}.evil.example".encode()],
        [HOST.encode(), HOST.encode()],  # two Host headers, even equal ones
        [HOST.encode(), b"evil.example"],
    ],
)
def test_other_hosts_are_refused_before_the_token(hosts: list[bytes]) -> None:
    headers = [(b"host", value) for value in hosts] + valid_headers()[1:]
    assert_refused(exchange(headers), 403, "bad_host")
    # The Host check comes first: a request with no token is still told about its Host.
    assert_refused(exchange([(b"host", value) for value in hosts]), 403, "bad_host")


def test_an_extra_host_is_allowed_only_with_the_port() -> None:
    assert allowed_hosts(80, "192.168.1.5") == {
        "127.0.0.1:80",
        "localhost:80",
        "[::1]:80",
        "192.168.1.5:80",
    }
    assert "[fe80::1]:80" in allowed_hosts(80, "fe80::1")
    assert allowed_hosts(80, None) == allowed_hosts(80, "") == {"127.0.0.1:80", "localhost:80", "[::1]:80"}


@pytest.mark.parametrize("name", [b"origin", b"sec-fetch-mode", b"sec-fetch-site", b"sec-fetch-"])
def test_browser_headers_are_refused_before_the_token(name: bytes) -> None:
    assert_refused(exchange([*valid_headers(), (name, b"x")]), 403, "browser_request")
    assert_refused(exchange([(b"host", HOST.encode()), (name, b"x")]), 403, "browser_request")


def test_similar_header_names_are_not_browser_headers() -> None:
    assert exchange(
        [*valid_headers(), (b"x-origin", b"x"), (b"sec-fetch", b"x"), (b"x-sec-fetch-mode", b"x")]
    ).app_called


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b"0x10", b"", b"1.0"])
def test_a_content_length_that_is_not_a_number_is_a_bad_request(length: bytes) -> None:
    assert_refused(exchange([*valid_headers(), (b"content-length", length)]), 400, "bad_request")


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    result = exchange([*valid_headers(), (b"content-length", str(MAX_BODY + 1).encode())])
    assert_refused(result, 413, "body_too_large")
    assert f"{MAX_BODY:,}" in result.error["message"]


@pytest.mark.parametrize("length", [b"0", str(MAX_BODY).encode(), b" 7 "])
def test_a_declared_length_up_to_the_limit_passes(length: bytes) -> None:
    assert exchange([*valid_headers(), (b"content-length", length)]).app_called


def test_the_last_content_length_counts() -> None:
    over = str(MAX_BODY + 1).encode()
    headers = [*valid_headers(), (b"content-length", b"1"), (b"content-length", over)]
    assert_refused(exchange(headers), 413, "body_too_large")
    assert exchange([*valid_headers(), (b"content-length", over), (b"content-length", b"1")]).app_called


def test_a_streamed_body_is_counted_as_it_arrives() -> None:
    exact = exchange(chunks=[b"x" * (MAX_BODY - 1), b"x"])
    assert exact.status == 200 and len(exact.app_body) == MAX_BODY
    result = exchange(chunks=[b"x" * (MAX_BODY - 1), b"xx", b"never read"])
    assert result.app_called
    assert [message["type"] for message in result.sent] == ["http.response.start", "http.response.body"]
    assert_refused_after_app(result)


def assert_refused_after_app(result: Exchange) -> None:
    assert result.status == 413 and result.error["code"] == "body_too_large"
    assert result.headers[b"content-length"] == str(len(result.sent[1]["body"])).encode()


def test_an_answer_already_started_is_not_followed_by_a_second_one() -> None:
    result = exchange(chunks=[b"x" * (MAX_BODY + 1)], app_answers_first=True)
    assert [message.get("status") for message in result.sent] == [200]


def test_websockets_are_closed_and_lifespan_passes() -> None:
    closed = exchange(scope_type="websocket")
    assert closed.sent == [{"type": "websocket.close", "code": 1008}] and not closed.app_called
    # Lifespan events reach the app whatever the headers (there are none).
    assert exchange([], scope_type="lifespan").scope_passed_on
