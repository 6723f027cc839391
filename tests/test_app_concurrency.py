"""Many people at once: concurrent uploads of the same picture all get complete, correct answers; and two
copies of the app on one machine do not break each other's pictures.

Gradio writes each returned numpy image to its cache under the hash of its content, rewriting the file in
place every time: several users uploading the same face got one file rewritten while another's download of it
was under way ("Too little data for declared Content-Length"). The app hands out files it wrote once instead.
"""

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from app_fixtures import free_port
from gradio_client import Client, handle_file
from PIL import Image

from webui.gradio_app.blocks import SLIDER_COUNT

ROOT = Path(__file__).resolve().parents[1]

CLIENTS, UPLOADS = 8, 5


@pytest.fixture(scope="module")
def same_face(tmp_path_factory) -> str:
    from trainer.data.synthetic import synthetic_faces

    _, image, _, _ = next(synthetic_faces(1, 64, seed=13))
    path = tmp_path_factory.mktemp("concurrent") / "same-face.png"
    image.save(path)
    return str(path)


def test_concurrent_uploads_of_one_face_all_get_the_whole_answer(served_app, same_face):
    _, url = served_app

    def one_user(_):
        client = Client(url, verbose=False)
        answers = []
        for _ in range(UPLOADS):
            original, recon, info, *_ = client.predict("tiny-vae", handle_file(same_face), api_name="/reconstruct")
            answers.append((np.asarray(Image.open(original).convert("RGB")),
                            np.asarray(Image.open(recon).convert("RGB")), info))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [answer for user in pool.map(one_user, range(CLIENTS)) for answer in user]
    assert len(results) == CLIENTS * UPLOADS
    first_original, first_recon, first_info = results[0]
    assert first_recon.shape == (16, 16, 3)  # the tiny model's own pixels
    for original, recon, info in results:  # the same face, so the same answer, every time, in full
        assert np.array_equal(original, first_original) and np.array_equal(recon, first_recon) and info == first_info


def test_the_served_app_has_no_monitoring_dashboard(served_app):
    """Gradio's monitoring rebuilt a table of its last 10,000 events after every event (about 4% of the
    server's time under 30 users, growing with uptime) for a dashboard nobody opens on a Space: it is off."""
    import httpx

    _, url = served_app
    assert httpx.get(url + "monitoring/summary", timeout=30).status_code == 403


def traversal_of(url: str, sweep_args: tuple) -> dict:
    """The traversal sweep a person asks for on the app at ``url``, as the file the server hands out."""
    client = Client(url, verbose=False, download_files=False)
    client.predict(sweep_args[0], 42, 1.0, api_name="/select_model")
    return client.predict(*sweep_args, api_name="/traversal")


# Another copy of the app in a process that goes on after closing it (a notebook, a test worker): launched,
# then closed when told to, as Gradio's demo.close() does it.
OTHER_COPY = """
import sys
from explorer.service import Explorer
from webui.gradio_app import build_demo, launch
explorer = Explorer(sys.argv[1], data=[])
demo = build_demo(explorer)
launch(demo, explorer, prevent_thread_lock=True, server_name="127.0.0.1", server_port=int(sys.argv[2]), quiet=True)
print("up", flush=True)
sys.stdin.readline()
demo.close()
print("closed", flush=True)
sys.stdin.readline()
"""


def test_closing_another_copy_of_the_app_leaves_this_ones_pictures(served_app, tiny_models):
    """Gradio's default cache (/tmp/gradio) is shared by every Gradio server on the machine and names a copy by
    its content, and a server that closes deletes each file it handed out. So when another copy of the app
    (in a notebook, a second test worker) handed out the same picture and was closed, this copy's picture was
    gone (403). Each app process now keeps its own cache."""
    _, url = served_app
    sweep_args = ("tiny-vae", 5, *[0.0] * SLIDER_COUNT)
    picture = traversal_of(url, sweep_args)["url"]
    assert httpx.get(picture, timeout=30).status_code == 200

    port = free_port()
    other = subprocess.Popen([sys.executable, "-c", OTHER_COPY, str(tiny_models), str(port)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert other.stdout.readline().strip() == "up"
        theirs = traversal_of(f"http://127.0.0.1:{port}/", sweep_args)
        assert Path(theirs["path"]).name == Path(picture.split("file=")[1]).name  # the same picture, both copies
        other.stdin.write("close\n")
        other.stdin.flush()
        assert any(line.strip() == "closed" for line in other.stdout)  # after Gradio's "Closing server …"
        response = httpx.get(picture, timeout=30)
    finally:
        other.kill()
        other.wait(timeout=60)
    assert response.status_code == 200, response.status_code
    assert Image.open(io.BytesIO(response.content)).size[0] > 16  # whole: a labelled sweep of 16 px faces
