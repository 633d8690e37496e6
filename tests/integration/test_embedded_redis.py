import multiprocessing

import redis

from infra.embedded import ensure_redis, stop_redis


def _url_from_another_process(data_dir, queue):
    queue.put(ensure_redis(data_dir))


def test_every_process_of_an_install_shares_one_embedded_redis(tmp_path):
    data_dir = tmp_path / "var"
    try:
        url = ensure_redis(data_dir)
        redis.Redis.from_url(url).set("shared", "yes")
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=_url_from_another_process, args=(data_dir, queue))
        child.start()
        child.join(30)
        assert queue.get(timeout=5) == url
        assert redis.Redis.from_url(url).get("shared") == b"yes"
        assert (data_dir / "redis.pid").exists()
    finally:
        stop_redis(data_dir)
    assert not _answers(url)


def _answers(url):
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.3).ping()
    except (redis.ConnectionError, OSError):
        return False
