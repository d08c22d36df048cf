"""The load generator of benchmarks/load.py: a minimal keep-alive HTTP/1.1 client, the open
loop, and the server process's CPU (only 127.0.0.1 is ever contacted)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from typing import Any

HOST = "127.0.0.1"  # the only address this benchmark ever talks to
TOKEN = "load-benchmark-token"
KEEP_ALIVE_S = 4.0  # uvicorn closes a keep-alive connection idle for 5 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


class Conn:
    """One keep-alive HTTP/1.1 connection to the server (a minimal client: the generator
    shares the two cores with the server, so it must cost little per request)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, data

    def close(self) -> None:
        self.writer.close()


class Pool:
    def __init__(self, port: int, limit: int) -> None:
        self.port, self.idle = port, list[tuple[Conn, float]]()
        self.slots = asyncio.Semaphore(limit)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, Any, bytes]:
        async with self.slots:
            conn = None
            while self.idle and conn is None:
                conn, used = self.idle.pop()
                if time.monotonic() - used > KEEP_ALIVE_S:  # the server may have closed it
                    conn.close()
                    conn = None
            conn = conn or await Conn.open(self.port)
            try:
                out = await conn.request(method, path, body)
            except BaseException:
                conn.close()  # a timed-out or broken connection is never reused
                raise
            if out[1].get("connection", "").lower() == "close":
                conn.close()  # the server will not read another request on it
            else:
                self.idle.append((conn, time.monotonic()))
            return out

    def close(self) -> None:
        for c, _ in self.idle:
            c.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]


async def open_loop(
    port: int, bodies: list[bytes], rate: float, timeout: float, connections: int
) -> dict[str, Any]:
    pool = Pool(port, connections)
    lat: list[float] = []
    status: dict[str, int] = {}
    seqs: list[int] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(i: int, due: float) -> None:
        try:
            code, _, data = await asyncio.wait_for(
                pool.request("POST", "/v1/screen", bodies[i]), timeout
            )
        except TimeoutError:
            status["timeout"] = status.get("timeout", 0) + 1
            return
        except (OSError, asyncio.IncompleteReadError) as e:
            status[type(e).__name__] = status.get(type(e).__name__, 0) + 1
            return
        lat.append((loop.time() - due) * 1000)
        status[str(code)] = status.get(str(code), 0) + 1
        if code == 200:
            a, b = json.loads(data)["audit_seq"]
            seqs.extend(range(a, b + 1))

    tasks = []
    for i in range(len(bodies)):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i, due)))
    sent_in = loop.time() - t0
    await asyncio.gather(*tasks)
    pool.close()
    return {"lat": lat, "status": status, "seqs": seqs, "send_s": sent_in}


async def get_pages(port: int, paths: tuple[str, ...], timeout: float) -> None:
    pool = Pool(port, 1)
    try:
        for path in paths:
            await asyncio.wait_for(pool.request("GET", path), timeout)
    finally:
        pool.close()


async def drain(port: int, timeout: float) -> tuple[float | None, dict[str, Any]]:
    """Seconds until the server answers /v1/health: how long it kept working on a backlog
    (requests whose clients had already given up) after the load stopped; and its answer."""
    pool = Pool(port, 1)
    t = time.perf_counter()
    try:
        _, _, data = await asyncio.wait_for(pool.request("GET", "/v1/health"), timeout)
    except TimeoutError:
        return None, {}
    finally:
        pool.close()
    return time.perf_counter() - t, json.loads(data)


async def batches(port: int, bodies: list[bytes], timeout: float) -> list[float]:
    pool = Pool(port, 1)
    out = []
    for body in bodies:
        t = time.perf_counter()
        code, _, data = await asyncio.wait_for(pool.request("POST", "/v1/screen", body), timeout)
        out.append((time.perf_counter() - t) * 1000)
        if code != 200:
            raise SystemExit(f"batch request failed: {code} {data[:300]!r}")
    pool.close()
    return out


def cpu_s(pid: int) -> float:
    """CPU seconds the server process has used (user + system, all threads): per request it
    is the cost the machine's load does not inflate much, unlike latency."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"transship serve exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("transship serve did not start in time")


def settle(
    pid: int, quiet_s: float = 1.0, cpu_s_at_most: float = 0.02, limit_s: float = 60
) -> float:
    """Wait until the server used at most `cpu_s_at_most` of CPU in `quiet_s`: its start-up
    work in the background is done (the dashboard's warmer, which sleeps 0.5 s between pages,
    recomputed pages that failed on the benchmark's empty warehouse during the measured load:
    ~1 s of CPU). Returns the seconds waited."""
    t = time.monotonic()
    while time.monotonic() - t < limit_s:
        before = cpu_s(pid)
        time.sleep(quiet_s)
        if cpu_s(pid) - before <= cpu_s_at_most:
            break
    return time.monotonic() - t
