import psycopg


def test_the_throwaway_postgres_server_accepts_connections(postgres_env):
    with psycopg.connect(
        host=postgres_env["POSTGRES_HOST"],
        port=int(postgres_env["POSTGRES_PORT"]),
        user=postgres_env["POSTGRES_USER"],
        dbname=postgres_env["POSTGRES_DBNAME"],
    ) as connection:
        assert connection.execute("SELECT 1 + 1").fetchone() == (2,)
