"""Many people at once: concurrent uploads of the same picture all get complete, correct answers.

Gradio writes each returned numpy image to its cache under the hash of its content, rewriting the file in
place every time: several users uploading the same face got one file rewritten while another's download of it
was under way ("Too little data for declared Content-Length"). The app hands out files it wrote once instead.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

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
