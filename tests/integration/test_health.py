import redis

from gateway.app import create_app
from infra.bootstrap import Container
from infra.config import Config


def test_healthz_answers_without_touching_any_dependency(tmp_path):
    config = Config.from_env(
        {"SAMBUNG_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1"}
    )
    client = create_app(config=config).test_client()
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_is_ready_when_store_and_redis_answer(container):
    client = create_app(container=container).test_client()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"event_store": "up", "redis": "up"}


def test_readyz_names_redis_when_it_is_down(tmp_path):
    config = Config.from_env(
        {"SAMBUNG_DATA_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1"}
    )
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    client = create_app(container=Container(config, redis_connection=down)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["event_store"] == "up"
    assert response.json["checks"]["redis"].startswith("down: ConnectionError")


def test_readyz_names_the_event_store_when_postgres_is_unreachable(redis_url, tmp_path):
    config = Config.from_env(
        {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_HOST": "127.0.0.1",
         "POSTGRES_PORT": "1", "POSTGRES_DBNAME": "nothing", "REDIS_URL": redis_url,
         "SAMBUNG_DATA_DIR": str(tmp_path)}
    )  # fmt: skip
    response = create_app(config=config).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["event_store"].startswith("down:")
    assert response.json["checks"]["redis"] == "up"
