"""gunicorn settings for compound_app: `gunicorn --config gunicorn.conf.py`.

Every value can be changed through the environment, so one file serves a bare server and
the container alike. Options given on gunicorn's command line win over this file.
"""

import os

# The app itself: gunicorn calls the factory once in every worker.
wsgi_app = "compound_app:create_app()"

# Loopback by default: a TLS-terminating proxy (nginx, Caddy) on the same machine talks to
# us, nobody else. In a container set GUNICORN_BIND=0.0.0.0:8000 and publish the port to
# the proxy only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")


def _cores() -> int:
    # The cores this process may run on (a container's cpuset), not all of the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Synchronous workers, (2 × cores) + 1 as gunicorn advises: while one waits for the
# database another runs. Capped at 8: each worker keeps its own database connections
# (PostgreSQL's default limit is 100), SQLite has one writer at a time anyway, and a
# container may report more cores than its CPU quota lets it use. WEB_CONCURRENCY is the
# usual name hosting platforms set.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cores() + 1, 8))

# A request that takes longer than this is stuck: the worker is killed and replaced. The
# slowest pages (a year's ledger in Excel, six photos being re-encoded) take a few seconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On a restart or deploy, workers get this long to finish the requests they hold.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Keep the connection from the proxy open a little between requests.
keepalive = 5

# The app writes one line per request itself (method, path, status, time, user, request
# id; see compound_app/logging_setup.py): gunicorn's access log would only repeat it, and
# would include query strings.
accesslog = None
# gunicorn's own messages (workers starting, timeouts) go to stderr beside the app's.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Whose X-Forwarded-Proto gunicorn believes when deciding http or https. The app trusts
# its proxies through COMPOUND_PROXY_HOPS (X-Forwarded-For and -Proto) instead, so
# gunicorn's default (the proxy on this machine) is right on a bare server. In a container
# the proxy comes from another address: set FORWARDED_ALLOW_IPS to it, never to "*"
# unless only the proxy can reach this port.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Each worker imports the app and opens its own database connections after the fork;
# connections shared across a fork break in odd ways.
preload_app = False

# Workers' heartbeat files in memory: a container's overlay file system can stall them
# long enough for gunicorn to think a worker hung. (gunicorn makes them with mkstemp.)
_SHM = "/dev/shm"  # noqa: S108
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM
