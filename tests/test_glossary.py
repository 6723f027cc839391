"""The explorer's words: every figure explained on hover, and what a model draws named from its data."""

from explorer.glossary import TERMS, glossary_lines, subject, with_tooltips


def test_each_figure_gets_its_meaning_on_hover_and_nothing_else_changes():
    text = "Evaluation: FID 138.1 · KID×10³ 161.9 · precision 0.021 · rFID 42.0 · D(real) 0.752 · −ELBO -13510.1 nats"
    marked = with_tooltips(text)
    for term in ("FID", "KID×10³", "precision", "rFID", "D(real)", "−ELBO"):
        assert f'">{term}</abbr>' in marked
    assert marked.count("<abbr") == 6  # the FID inside rFID is not marked again
    assert '<abbr title="FID of test images passed through the encoder and decoder' in marked
    plain = marked
    for term in TERMS:
        plain = plain.replace(f">{term}</abbr>", f">{term}")
    assert __import__("re").sub(r"<abbr title=\"[^\"]*\">", "", plain) == text


def test_a_gans_training_diagnostics_are_explained_too():
    marked = with_tooltips("Test split, training diagnostics: D(real) 0.752 · D(fake) 0.170 · D loss 0.494 · G loss 1.846")
    assert all(f'">{term}</abbr>' in marked for term in ("D(real)", "D(fake)", "D loss", "G loss"))


def test_the_glossary_names_every_term_once():
    lines = glossary_lines().splitlines()
    assert len(lines) == len(TERMS) and all(line.startswith("- **") for line in lines)


def test_what_a_model_draws_comes_from_its_data():
    assert subject(["anime-faces-tagged-64", "anime-faces-kaggle-64"]) == "face"
    assert subject(["synthetic"]) == "face"
    assert subject(["fashion-mnist"]) == "garment"
    assert subject(["my-cats"]) == subject([]) == "image"
