"""Start JupyterLab on 127.0.0.1 for a test, and talk to its kernels."""

import contextlib
import json
import secrets
import subprocess
import time
import uuid

import pytest
import requests
from conftest import free_port


@contextlib.contextmanager
def running_lab(python, root, env, timeout=120):
    """JupyterLab from the given interpreter, serving root, with a random token.

    Yields base URL, an authorised requests session, the token and the port.
    """
    port = free_port()
    token = secrets.token_hex(16)
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if session.get(f"{base}/api/status", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(
                    "JupyterLab did not start:\n"
                    + process.stderr.read().decode()[-3000:]
                )
            time.sleep(0.3)
        yield {"base": base, "session": session, "token": token, "port": port}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def default_viewers(lab):
    """Which viewer the server tells JupyterLab to open each file type with."""
    url = f"{lab['base']}/lab/api/settings/@jupyterlab/docmanager-extension:plugin"
    settings = lab["session"].get(url, timeout=30).json()
    return settings["schema"]["properties"]["defaultViewers"]["default"]


def execute(channel, code, timeout=120):
    """Run code in the kernel; return (status, stdout text)."""
    msg_id = uuid.uuid4().hex
    channel.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                },
            }
        )
    )
    stdout, status, idle = [], None, False
    deadline = time.monotonic() + timeout
    while status is None or not idle:  # the reply, and the kernel back to idle
        assert time.monotonic() < deadline, "the kernel did not answer in time"
        message = json.loads(channel.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            stdout.append(content["text"])
        elif kind == "error":
            stdout.append("\n".join(content["traceback"]))
        elif kind == "execute_reply":
            status = content["status"]
        elif kind == "status":
            idle = content["execution_state"] == "idle"
    return status, "".join(stdout)


@contextlib.contextmanager
def kernel_channel(lab):
    """A python3 kernel on the server, and a websocket to its channels."""
    websocket = pytest.importorskip("websocket")
    session, base = lab["session"], lab["base"]
    kernel = session.post(
        f"{base}/api/kernels", json={"name": "python3"}, timeout=60
    ).json()
    channel = websocket.create_connection(
        f"ws://127.0.0.1:{lab['port']}/api/kernels/{kernel['id']}/channels"
        f"?token={lab['token']}",
        timeout=120,
    )
    try:
        yield channel
    finally:
        channel.close()
        session.delete(f"{base}/api/kernels/{kernel['id']}", timeout=30)


def run_first_cells(channel, notebook, count=5):
    """Run the notebook's first `count` code cells (Colab setup, file names,
    cache, overrides, the download helper) and check the helper is defined."""
    code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for source in code_cells[:count]:
        status, output = execute(channel, source)
        assert status == "ok", output
    status, output = execute(
        channel, "print(len(mnist_sha256), len(mirrors) > 0, callable(fetch_mnist))"
    )
    assert status == "ok" and output.split() == ["4", "True", "True"], output
