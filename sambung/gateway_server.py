"""`sambung serve`: the gateway under gunicorn, as production serves it (`gunicorn wsgi:app`).

The app is built in each gunicorn worker after the fork (no preload), so no connection, lock or
thread of the master crosses into a worker. Each worker serves with `THREADS` threads (gunicorn's
gthread worker, which also keeps connections alive), so that the webhooks a process takes at once
share one durable commit (`infra.group_commit`); production's `gunicorn wsgi:app` takes the same
`--threads` (deploy/). SIGTERM (and Ctrl-C) stop the master gracefully: it stops accepting, lets
the workers finish their requests within `GRACEFUL_SECONDS`, and exits only once every worker
has; `sambung up` waits longer than that before it kills anything.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

GRACEFUL_SECONDS = 5
THREADS = 8


class GatewayServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, host: str, port: int, workers: int, access_log: bool = False) -> None:
        self.options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": workers,
            # Threads, so that one process has concurrent webhooks to commit together
            # (`infra.group_commit`); gunicorn serves with its gthread worker when threads > 1.
            "threads": THREADS,
            "graceful_timeout": GRACEFUL_SECONDS,
            "accesslog": "-" if access_log else None,
            "proc_name": "sambung-gateway",
            # gunicorn 24+ opens a control socket at one path per user (~/.gunicorn): two
            # installs on one machine would fight over it, and nothing here uses it.
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorns lack the newer settings
                self.cfg.set(key, value)

    def load(self) -> Any:
        from gateway.app import create_app
        from infra import bootstrap

        return create_app(container=bootstrap.current())


def serve_gateway(host: str, port: int, workers: int, access_log: bool = False) -> None:
    GatewayServer(host, port, workers, access_log).run()
