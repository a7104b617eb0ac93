"""Start the Streamlit app (``yanbao ui``).

The app runs in its own ``streamlit run`` process; the library path reaches it through
``$YANBAO_LIBRARY`` (the same variable ``qa.config.Config`` reads), so the app, the CLI and
the API agree on one configuration. It listens on 127.0.0.1 by default: reports must not
leave the machine, so exposing the app on a network is an explicit choice (``address``).
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")


def _max_upload_mb() -> int:
    try:
        from qa.config import Config
        return max(1, math.ceil(Config.load().max_upload_mb))
    except Exception:  # noqa: BLE001 — a launcher must launch; the app reports config errors itself
        return 200


def ui_command(port: int = 8501, headless: bool = True, address: str = "127.0.0.1",
               max_upload_mb: int | None = None) -> list[str]:
    """The ``streamlit run`` command line for the app."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.headless", "true" if headless else "false",
            "--server.port", str(port),
            "--server.address", address,
            "--server.maxUploadSize", str(max_upload_mb or _max_upload_mb()),
            "--server.runOnSave", "false",
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer",
            "--theme.base", "light",
            "--theme.primaryColor", "#1d4ed8"]


def ui_env(library: str | Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    if library:
        env["YANBAO_LIBRARY"] = str(Path(library).expanduser().resolve())
    env.update(extra or {})
    return env


def start_ui(library: str | Path | None = None, port: int = 8501, headless: bool = True,
             address: str = "127.0.0.1", env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """Start the app in the background; the caller owns (and must terminate) the process."""
    return subprocess.Popen(ui_command(port, headless, address), env=ui_env(library, env),
                            cwd=str(APP.parents[1]), **popen)


def stop_ui(proc: subprocess.Popen, timeout: float = 15) -> int:
    """Stop an app started with ``start_ui``: terminate, then kill if it does not exit in time."""
    proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def run_ui(library: str | None, port: int = 8501, headless: bool = True, address: str = "127.0.0.1") -> int:
    """Run the app in the foreground until Ctrl-C; returns the exit status."""
    where = f"http://{'localhost' if address in ('127.0.0.1', 'localhost') else address}:{port}"
    print(f"yanbao UI: {where}  (library: {library or 'from config / $YANBAO_LIBRARY'}; Ctrl-C stops)",
          file=sys.stderr)
    proc = start_ui(library, port, headless, address)

    def _stop(signum, frame):  # a SIGTERM to `yanbao ui` must not orphan the server
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop) if hasattr(signal, "SIGTERM") else None
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
