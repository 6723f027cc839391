"""The files the app hands out: named by content, new ones appear whole, old ones are pruned."""

import os
import time

from webui.gradio_app.outputs import MAX_AGE_S, prune, write_output


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_same_content_is_one_file_and_other_content_another(tmp_path):
    first = write_output("face-m", ".png", b"abc", tmp_path)
    assert write_output("face-m", ".png", b"abc", tmp_path) == first
    other = write_output("face-m", ".png", b"abd", tmp_path)
    assert other != first and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        os.path.basename(p) for p in (first, other))  # no .part file left behind
    assert open(first, "rb").read() == b"abc" and other.endswith(".png") and "face-m-" in other


def test_old_files_are_pruned_and_asking_again_makes_a_file_young(tmp_path):
    old = write_output("latent-m", ".json", b"{}", tmp_path)
    kept = write_output("latent-m", ".json", b"[]", tmp_path)
    age(old, MAX_AGE_S + 60)
    age(kept, MAX_AGE_S - 60)
    assert prune(tmp_path) == 1 and not os.path.exists(old) and os.path.exists(kept)
    assert write_output("latent-m", ".json", b"[]", tmp_path) == kept  # asked again: young again, not rewritten
    assert time.time() - os.path.getmtime(kept) < 30
    age(kept, MAX_AGE_S + 60)
    write_output("face-m", ".png", b"x", tmp_path)  # any write prunes
    assert not os.path.exists(kept)
