"""``common.redis_client.run_script``: the one Redis round trip of an authenticated request (the cached
principal with the token's revocation, or the rate limiter's window with both) sent without redis-py's
command machinery, answering exactly what calling the script answers."""

from __future__ import annotations

import uuid

import pytest
import redis
from redis.connection import Connection

from common.config import get_settings
from common.redis_client import run_script

ECHO = """
-- {nonce}
if ARGV[1] == 'fail' then
    return redis.error_reply('asked to fail')
end
return {{#KEYS, KEYS[1], ARGV, {{1, 'two', {{3}}}}, redis.call('exists', KEYS[1]), false}}
"""
KEYS = ["trusera:test:run-script:one", "trusera:test:run-script:two"]
ARGUMENTS = [1.5, 7, "text é", b"\x00bytes", 0.1 + 0.2]


def _client(decode_responses: bool = True) -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, decode_responses=decode_responses)


def _new_script(client: redis.Redis):
    """A script this Redis has never seen: its first ``EVALSHA`` is answered ``NOSCRIPT``."""
    return client.register_script(ECHO.format(nonce=uuid.uuid4()))


def _evalsha_calls(client: redis.Redis) -> int:
    return client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)


@pytest.mark.parametrize("decode_responses", [True, False])
def test_a_script_answers_what_calling_it_answers(decode_responses):
    client = _client(decode_responses)
    script = _new_script(client)
    expected = script(KEYS, ARGUMENTS)
    before = _evalsha_calls(client)
    assert run_script(script, KEYS, ARGUMENTS) == expected
    assert _evalsha_calls(client) == before + 1  # one command, no load, no retry
    numbers = [str(value) for value in (1.5, 0.1 + 0.2)]
    if not decode_responses:
        numbers = [number.encode() for number in numbers]
    assert [expected[2][0], expected[2][4]] == numbers  # a float as redis-py writes it (its repr)


def test_a_script_redis_does_not_know_is_loaded_and_answered():
    client = _client()
    script = _new_script(client)
    assert client.script_exists(script.sha) == [False]
    assert run_script(script, KEYS, ARGUMENTS)[1] == KEYS[0]
    assert client.script_exists(script.sha) == [True]


def test_a_lost_reply_is_asked_again_through_the_script_and_the_connection_dropped(monkeypatch):
    client = _client()
    script = _new_script(client)
    script(KEYS, ARGUMENTS)
    read = Connection.read_response
    lost, dropped = [], []

    def read_once_lost(connection, *args, **kwargs):
        if not lost:
            lost.append(connection)
            raise redis.ConnectionError("connection reset before the reply")
        return read(connection, *args, **kwargs)

    disconnect = Connection.disconnect
    monkeypatch.setattr(Connection, "read_response", read_once_lost)
    monkeypatch.setattr(
        Connection,
        "disconnect",
        lambda connection, *a, **k: dropped.append(connection) or disconnect(connection),
    )
    assert run_script(script, KEYS, ARGUMENTS) == script(KEYS, ARGUMENTS)
    assert lost and lost[0] in dropped


def test_an_error_the_script_returns_is_raised_and_a_bool_refused_as_redis_py_refuses_it():
    client = _client()
    script = _new_script(client)
    script(KEYS, ARGUMENTS)
    with pytest.raises(redis.ResponseError, match="asked to fail"):
        run_script(script, KEYS, ["fail"])
    with pytest.raises(redis.DataError):
        run_script(script, KEYS, [True])
    assert run_script(script, KEYS, ARGUMENTS)[0] == 2  # the connection still answers in step
