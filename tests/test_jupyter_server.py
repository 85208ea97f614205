"""Open the tutorial through a real Jupyter server, as JupyterLab does."""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid

import jupytext
import pytest
import requests
from conftest import CONTENT, NOTEBOOK, REPO, free_port

websocket = pytest.importorskip("websocket")
NAME = NOTEBOOK.name


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of content/."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NAME)
    shutil.copy(CONTENT / "jupytext.toml", root / "jupytext.toml")
    port = free_port()
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(REPO / ".jupyter"))
    process = subprocess.Popen(
        [
            sys.executable,
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
    deadline = time.monotonic() + 60
    while True:
        try:
            if session.get(f"{base}/api/status", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(
                f"Jupyter server did not start:\n{process.stderr.read().decode()[-3000:]}"
            )
        time.sleep(0.3)
    yield {"base": base, "session": session, "token": token, "root": root, "port": port}
    process.terminate()
    process.wait(timeout=20)


def test_markdown_opens_as_a_notebook_by_default(server):
    url = f"{server['base']}/lab/api/settings/@jupyterlab/docmanager-extension:plugin"
    settings = server["session"].get(url, timeout=10).json()
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Jupytext Notebook", viewers


def test_contents_api_serves_the_md_as_a_notebook(server):
    url = f"{server['base']}/api/contents/{NAME}?type=notebook&content=1"
    model = server["session"].get(url, timeout=30).json()
    assert model["type"] == "notebook", model.get("message")
    cells = model["content"]["cells"]
    expected = jupytext.read(NOTEBOOK).cells
    assert len(cells) == len(expected) > 50
    assert cells[0]["source"].startswith("# Teach a neural network")
    code = [cell["source"] for cell in cells if cell["cell_type"] == "code"]
    assert code == [cell.source for cell in expected if cell.cell_type == "code"]
    tags = [cell["metadata"].get("tags", []) for cell in cells]
    assert sum("remove-cell" in t for t in tags) >= 8


def test_saving_writes_the_paired_ipynb(server):
    url = f"{server['base']}/api/contents/{NAME}"
    model = server["session"].get(url + "?type=notebook&content=1", timeout=30).json()
    saved = server["session"].put(
        url,
        json={"type": "notebook", "format": "json", "content": model["content"]},
        timeout=30,
    )
    assert saved.ok, saved.text
    paired = server["root"] / NAME.replace(".md", ".ipynb")
    assert paired.is_file()
    assert len(json.loads(paired.read_text())["cells"]) == len(
        model["content"]["cells"]
    )
    assert jupytext.read(server["root"] / NAME).cells[0].source.startswith("# Teach")


def execute(channel, code, timeout=60):
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


def test_kernel_runs_the_first_code_cells(server):
    session, base = server["session"], server["base"]
    kernel = session.post(
        f"{base}/api/kernels", json={"name": "python3"}, timeout=30
    ).json()
    channel = websocket.create_connection(
        f"ws://127.0.0.1:{server['port']}/api/kernels/{kernel['id']}/channels"
        f"?token={server['token']}",
        timeout=60,
    )
    try:
        execute(channel, f"import os; os.chdir({str(server['root'])!r})")
        code_cells = [
            c.source for c in jupytext.read(NOTEBOOK).cells if c.cell_type == "code"
        ]
        for source in code_cells[:4]:  # file names, cache settings, overrides, helpers
            status, output = execute(channel, source)
            assert status == "ok", output
        status, output = execute(
            channel, "print(len(mnist_sha256), len(mirrors) > 0, callable(fetch_mnist))"
        )
        assert status == "ok" and output.split() == ["4", "True", "True"], output
    finally:
        channel.close()
        session.delete(f"{base}/api/kernels/{kernel['id']}", timeout=30)
