"""Driving `wrk` (Debian's package) from a benchmark: a Lua script per run that rotates through a list of
requests, and the run's figures read back as one JSON line that the script's `done` hook prints."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

WRK = Path("/usr/bin/wrk")
# Past this a request counts as a timeout (wrk's default is 2 s, which a loaded machine can exceed).
TIMEOUT = "10s"
RESULT_MARK = "WRK-RESULT "
SAMPLE_MARK = "WRK-SAMPLE "


class WrkFailed(Exception):
    """wrk did not run, or printed no figures."""


@dataclass(frozen=True)
class Requests:
    """What one run sends, in turn: `paths`, and with POST the body of the same index. Each POST carries
    an `Idempotency-Key` of its own."""

    method: str
    paths: list[str]
    bodies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int  # connect, read and write errors
    timeouts: int
    cpu_s: float  # wrk's own user + system time
    samples: list[str]  # the first non-2xx answer of each thread that had one

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def ensure_installed() -> None:
    """Install wrk with apt-get when it is missing and this runs as root; otherwise exit asking for it."""
    if WRK.exists():
        return
    if os.geteuid() != 0:
        sys.exit(f"{WRK} is missing: install Debian's wrk package (apt-get install -y wrk) and run again")
    print("installing wrk (apt-get) ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True)
    if not WRK.exists():
        sys.exit(f"apt-get did not install {WRK}")


def run(
    requests: Requests,
    base: str,
    *,
    seconds: float,
    threads: int,
    connections: int,
    script: Path,
    tag: str,
) -> Run:
    """Send `requests` to `base` for `seconds`; the Lua script is written to `script`. `tag` starts every
    idempotency key of the run, so it must not repeat across runs against one database."""
    script.write_text(lua_script(requests, tag))
    command = [
        str(WRK),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={TIMEOUT}",
        "--latency",
        f"--script={script}",
        base,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise WrkFailed(f"wrk exited with {finished.returncode}: {finished.stderr.strip()}")
    lines = finished.stdout.splitlines()
    result = next((line for line in lines if line.startswith(RESULT_MARK)), None)
    if result is None:
        raise WrkFailed(f"wrk printed no figures:\n{finished.stdout}\n{finished.stderr}")
    figures = json.loads(result.removeprefix(RESULT_MARK))
    return Run(
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        non2xx=int(figures["non2xx"]),
        socket_errors=int(figures["connect"] + figures["read"] + figures["write"]),
        timeouts=int(figures["timeout"]),
        cpu_s=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        samples=[line.removeprefix(SAMPLE_MARK) for line in lines if line.startswith(SAMPLE_MARK)],
    )


def _long_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError(f"cannot quote {text!r} for Lua")
    return f"[==[{text}]==]"


def lua_script(requests: Requests, tag: str) -> str:
    """A wrk script that rotates through the requests, gives each POST its own key (the tag, wrk's thread
    number and a counter), counts non-2xx answers per thread and prints the figures as one JSON line."""
    paths = ",\n".join(_long_string(p) for p in requests.paths)
    bodies = ",\n".join(_long_string(b) for b in requests.bodies)
    return f"""-- written by bench/wrk.py for one run
local paths = {{
{paths}
}}
local bodies = {{
{bodies}
}}
local method = "{requests.method}"
local tag = "{tag}"
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  -- Each thread starts at its own place in the list, so that they do not send the same requests at once.
  position = ((id - 1) * 61) % #paths
  counter = 0
  non2xx = 0
  sample = ""
end

function request()
  position = position % #paths + 1
  if method == "POST" then
    counter = counter + 1
    local headers = {{
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("%s-%d-%d", tag, id, counter),
    }}
    return wrk.format("POST", paths[position], headers, bodies[position])
  end
  return wrk.format("GET", paths[position])
end

-- wrk's own "Non-2xx or 3xx" count lets 3xx pass, and its status errors start at 400.
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if sample == "" then
      sample = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
    local seen = thread:get("sample")
    if seen ~= "" then
      io.write("{SAMPLE_MARK}" .. string.gsub(seen, "\\n", " ") .. "\\n")
    end
  end
  local e = summary.errors
  io.write(string.format(
    '{RESULT_MARK}{{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0), latency.max,
    non2xx_total, e.connect, e.read, e.write, e.timeout))
end
"""
