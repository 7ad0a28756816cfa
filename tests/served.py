"""A server process whose output is read in background threads, so every wait on it is bounded."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from typing import IO

SMTP_HARNESS = [sys.executable, "-m", "smtp_harness", "serve", "--smtp-port", "0", "--http-port", "0"]
NOTIFYCFG_HARNESS = [sys.executable, "-m", "notifycfg", "harness", "serve", "--smtp-port", "0", "--http-port", "0"]


class Served:
    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._lines: dict[str, queue.Queue[str]] = {"stdout": queue.Queue(), "stderr": queue.Queue()}
        self._readers = [self._reader(self.proc.stdout, "stdout"), self._reader(self.proc.stderr, "stderr")]

    def _reader(self, stream: IO[str], name: str) -> threading.Thread:
        def pump() -> None:
            for line in stream:
                self._lines[name].put(line)
            self._lines[name].put(None)
            stream.close()

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread

    def line(self, stream: str = "stdout", timeout: float = 30) -> str:
        """The next line, or AssertionError after `timeout` seconds or at end of output."""
        try:
            line = self._lines[stream].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line on {stream} within {timeout}s") from None
        assert line is not None, f"{stream} closed; stderr: {self.rest('stderr')}"
        return line.rstrip("\n")

    def ready(self) -> dict[str, str]:
        """The `ready smtp=… http=…` fields."""
        line = self.line()
        assert line.startswith("ready smtp="), line
        return dict(part.split("=", 1) for part in line.split()[1:])

    def rest(self, stream: str) -> str:
        out = []
        while True:
            try:
                line = self._lines[stream].get(timeout=0.5 if self.proc.poll() is None else 10)
            except queue.Empty:
                break
            if line is None:
                break
            out.append(line)
        return "".join(out)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> tuple[int, str]:
        """Send `sig`, wait (bounded) and return the exit status and the rest of stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"the server did not stop within {timeout}s of signal {sig}") from None
        err = self.rest("stderr")
        for reader in self._readers:
            reader.join(timeout=10)
        return code, err

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
