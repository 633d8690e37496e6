"""The load generator: wrk (Debian's package, installed with apt-get when missing and allowed),
else an asyncio HTTP/1.1 client of our own. Both keep `connections` keep-alive connections busy
for `seconds`, each request taking the next of a list of prepared POSTs (distinct bodies, each
with its own headers), and report the rate of 2xx answers, latency percentiles and the others.

wrk cannot sign a body (its Lua has no HMAC), so every request is prepared in advance and wrk
reads them from a file; a run that outruns the list starts it again and says so (`repeated`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import Say, percentile


@dataclass(frozen=True)
class Prepared:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Load:
    tool: str
    requests: int
    ok: int  # 2xx answers
    errors: int  # non-2xx answers and socket errors
    seconds: float
    p50_ms: float
    p99_ms: float
    repeated: bool

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


def find_wrk(install: bool, say: Say) -> str | None:
    """wrk's path; with `install`, apt-get it when missing (root only). None when unavailable."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    say("wrk is missing: installing Debian's package with apt-get")
    for argv in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", "wrk"]):  # fmt: skip
        subprocess.run(argv, capture_output=True, check=False, timeout=300)
        if found := shutil.which("wrk"):
            return found
    return None


_LUA = r"""
local requests, count, position = {}, 0, 0
local repeated = false
function init(args)
  local file = io.open(args[1], "rb")
  local threads = tonumber(args[2])
  local index = 0
  while true do
    local header = file:read("*l")
    if not header then break end
    local length, extra = header:match("^(%d+)\t(.*)$")
    local body = file:read(tonumber(length))
    file:read("*l")
    if index % threads == me then
      local headers = {}
      for name, value in extra:gmatch("([^\t:]+): ([^\t]*)") do headers[name] = value end
      count = count + 1
      requests[count] = wrk.format("POST", args[3], headers, body)
    end
    index = index + 1
  end
  file:close()
end
function request()
  position = position + 1
  if position > count then position, repeated = 1, true end
  return requests[position]
end
"""

# wrk's `init` gets the same args in every thread; each learns its number (`me`) from `setup`.
_SETUP = r"""
local number = 0
function setup(thread)
  thread:set("me", number)
  number = number + 1
end
"""


def run_load(
    url: str, prepared: list[Prepared], connections: int, seconds: float, wrk: str | None
) -> Load:
    if wrk:
        return _wrk(wrk, url, prepared, connections, seconds)
    return asyncio.run(_async_load(url, prepared, connections, seconds))


def _wrk(wrk: str, url: str, prepared: list[Prepared], connections: int, seconds: float) -> Load:
    threads = 2
    parts = urlsplit(url)
    with tempfile.TemporaryDirectory(prefix="sambung-bench-wrk-") as scratch:
        data = Path(scratch) / "requests"
        with data.open("wb") as out:
            for request in prepared:
                extra = "\t".join(f"{k}: {v}" for k, v in request.headers.items())
                out.write(f"{len(request.body)}\t{extra}\n".encode() + request.body + b"\n")
        # Each thread reads its share of the requests: thread t takes every threads-th, from t.
        script = Path(scratch) / "bench.lua"
        script.write_text(_SETUP + _LUA + _DONE)
        result = subprocess.run(
            [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:.0f}s",
             "--timeout", "10s", "--latency", "-s", str(script),
             f"{parts.scheme}://{parts.netloc}", "--", str(data), str(threads), parts.path],
            capture_output=True, text=True, check=True, timeout=seconds + 120,
        )  # fmt: skip
    return _parse_wrk(result.stdout, len(prepared))


_DONE = r"""
function done(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d %f %f\n", summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def _parse_wrk(stdout: str, prepared: int) -> Load:
    found = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)$", stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{stdout}")
    total, micros, status, socket_errors, timeouts = (int(found[i]) for i in range(1, 6))
    errors = status + socket_errors + timeouts
    return Load(
        tool="wrk",
        requests=total,
        ok=total - status,
        errors=errors,
        seconds=micros / 1e6,
        p50_ms=float(found[6]),
        p99_ms=float(found[7]),
        repeated=total >= prepared,
    )


async def _async_load(url: str, prepared: list[Prepared], connections: int, seconds: float) -> Load:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raw = [
        (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Length: {len(r.body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in r.headers.items())
            + "\r\n"
        ).encode()
        + r.body
        for r in prepared
    ]
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0, "sent": 0}
    started = time.perf_counter()
    deadline = started + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                request = raw[counts["sent"] % len(raw)]
                counts["sent"] += 1
                sent = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                status = int(status_line.split()[1]) if status_line else 0
                counts["ok" if 200 <= status < 300 else "errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return Load(
        tool="python-asyncio",
        requests=counts["sent"],
        ok=counts["ok"],
        errors=counts["errors"],
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        repeated=counts["sent"] > len(raw),
    )
