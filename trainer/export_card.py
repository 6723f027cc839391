"""MODEL_CARD.md for a shipped checkpoint folder, written from its config, run config and metrics."""

from __future__ import annotations

import dataclasses

from trainer.config import PRESETS, TrainConfig
from trainer.metrics.report import evaluation_section, inversion_section


def _duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return "not recorded"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def split_of(source: dict) -> str:
    """How a source was split (recorded since provenance carried it; inferred for older checkpoints)."""
    if "split" in source:
        return source["split"]
    return ("the source's official train/test split" if source["spec"].startswith("fashion-mnist")
            else "sha1(id): 20% test")


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run_ends(continued_from: list[dict], epochs: int) -> list[int]:
    """The last epoch of each run that trained the weights (several runs when continued with ``--init-from``)."""
    return [entry["epochs"] for entry in continued_from] + [epochs]


def continuation_lines(continued_from: list[dict], epochs: int) -> list[str]:
    """How a model trained over several runs got its epochs (``train --init-from``)."""
    if not continued_from:
        return []
    ends = run_ends(continued_from, epochs)
    spans = [f"epochs 1–{ends[0]}"] + [f"{a + 1}–{b}" if b > a + 1 else str(b) for a, b in zip(ends, ends[1:])]
    return [f"- trained in {len(spans)} runs ({', '.join(spans)}): each later run started from the weights the "
            f"one before shipped ({continued_from[0].get('weights_dtype') or 'stored'}; for a DCGAN, G's weight "
            "average and D) with fresh Adam state, as run folders and their optimizer state are not kept"]


# Options that change what training learns (not where or how fast it runs), named on the card's command when
# the last run's value is not the preset's.
RECIPE_OPTIONS = ("batch_size", "learning_rate", "adam_beta1", "adam_beta2", "beta_kl", "recon_loss",
                  "recon_reduction", "kl_anneal_epochs", "flip", "test_fraction", "seed", "ema_decay",
                  "adversarial_weight", "r1_gamma", "r1_interval", "lr_decay_epochs", "lr_warmup_epochs")


def recipe_flags(preset: str, train: dict) -> str:
    """The command-line options by which the last run's recipe differs from ``preset``'s (a run continued with
    ``--init-from`` inherits them, so naming them again repeats the same run)."""
    if preset not in PRESETS:
        return ""
    defaults = vars(TrainConfig(**PRESETS[preset].train))
    return "".join(" " + _flag(key, train[key]) for key in RECIPE_OPTIONS
                   if key in train and train[key] != defaults[key])


def network_flags(preset: str, config: dict) -> str:
    """The options by which the network (config.json's "config") differs from ``preset``'s: a run with
    ``--latent-dim 256 --refine-channels 64`` is not the preset's network, so its card must say so."""
    if preset not in PRESETS:
        return ""
    defaults = dataclasses.asdict(PRESETS[preset].model_config)
    return "".join(" " + _flag(key, config[key]) for key in defaults
                   if key in config and _plain(config[key]) != _plain(defaults[key]))


def _plain(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def _flag(key: str, value) -> str:
    """One option as argparse reads it: --name / --no-name for a switch, else --name VALUE (or VALUES)."""
    name = key.replace("_", "-")
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no-{name}"
    if isinstance(value, (list, tuple)):
        return f"--{name} " + " ".join(str(v) for v in value)
    return f"--{name} {value:g}" if isinstance(value, float) else f"--{name} {value}"


def reproduce_training(name: str, preset: str, data_args: str, continued_from: list[dict], epochs: int,
                       train: dict | None = None, network: dict | None = None) -> list[str]:
    """The commands that trained the weights: one run, or a first run and its continuations; ``train`` (the
    last run's options) adds the recipe options it changed to the last run's command, ``network`` (the
    model's config) the network options to the first (a continuation inherits the network)."""
    ends = run_ends(continued_from, epochs)
    runs = [f"python -m trainer train --preset {preset} {data_args} --epochs {ends[0]}"
            + network_flags(preset, network or {})]
    runs += [f"python -m trainer train --init-from checkpoints/{name} --epochs {end}" for end in ends[1:]]
    runs[-1] += recipe_flags(preset, train or {})
    lines = []
    for part, command in enumerate(runs, start=1):
        folder = f"runs/{name}" if part == 1 else f"runs/{name}-{part}"
        lines += [f"{command} --out {folder}", f"python -m trainer export --run {folder} --out checkpoints/{name}"]
    return lines


def loss_curve_sentence(history: list[dict]) -> str:
    """The test figure per epoch, as a sentence. While KL is annealed the loss weighs KL by each epoch's own β,
    so it rises as β does even when the model improves: then the curve is the −ELBO, which keeps one scale."""
    betas = {r.get("beta") for r in history if r.get("beta")}
    if len(betas) > 1 and all(r.get("test_neg_elbo_nats") for r in history):
        return ("Test −ELBO per epoch (nats; the loss weighs KL by the epoch's annealed β, so it is not "
                "comparable across epochs): "
                + ", ".join(f"{r['epoch']}: {float(r['test_neg_elbo_nats']):.4g}" for r in history) + ".")
    curve = ", ".join(f"{r['epoch']}: {float(r['test_loss']):.4g}" for r in history if r.get("test_loss"))
    return f"Test loss per epoch: {curve or 'see training_metrics.csv'}."


def model_card(name: str, meta: dict, run_config: dict, metrics: dict, history: list[dict], model,
               inversion: dict | None = None) -> str:
    """``inversion``: the DCGAN inversion encoder's training record (its config.json "inversion"), if any."""
    training, data, train = meta.get("training", {}), meta.get("data", {}), run_config["train"]
    parameters = sum(p.numel() for p in model.parameters())
    sources = data.get("sources", [])
    data_args = " ".join(f"--data {d}" for d in run_config["data"])
    is_vae = meta["model_type"] == "conv_vae"
    if is_vae:
        likelihood = ("Gaussian −log-likelihood with one shared σ at its batch optimum (σ-VAE, Rybkin et al. 2021), "
                      "summed over pixels" if train["recon_loss"] == "gaussian"
                      else f"{train['recon_loss'].upper()} ({train['recon_reduction']} over pixels)")
        loss = (f"{likelihood} + β·KL, β = {train['beta_kl']:.4g}"
                + (f", annealed from 0 over {train['kl_anneal_epochs']} epochs" if train["kl_anneal_epochs"] else "")
                + (f"; + an adversarial term on the decoder (VAE-GAN, Larsen et al. 2016: the DCGAN discriminator "
                   f"on reconstructions and prior samples, −log D(x̂)) weighted {train['adversarial_weight']:.3g} × "
                   f"the ratio of gradient norms at the decoder's last layer (Esser et al. 2021)"
                   if train.get("adversarial_weight") else ""))
    else:
        loss = "non-saturating BCE (D: −log D(x) − log(1 − D(G(z))), G: −log D(G(z)))"
    if train.get("r1_gamma"):
        interval = train.get("r1_interval", 1)
        loss += (f"; the discriminator's R1 penalty γ/2·‖∇ₓD(x)‖² on real faces, γ = {train['r1_gamma']:.3g} "
                 f"(Mescheder et al. 2018)"
                 + (f", applied lazily every {interval} steps with weight ×{interval} (StyleGAN2)" if interval > 1 else ""))
    figure_rows = "\n".join(f"| {k.removeprefix('test_').replace('_', ' ')} | {_fmt(v)} |"
                            for k, v in metrics["test"].items())
    lines = [
        f"# {name}",
        "",
        f"A {'convolutional VAE' if is_vae else 'DCGAN'} ({parameters:,} parameters) trained with "
        f"`anime-latent-explorer` {meta.get('package_version', '')} (commit `{meta.get('git_commit') or 'unknown'}`).",
        "",
        "## Model",
        "",
        f"- type `{meta['model_type']}`, config: `{meta['config']}`",
        f"- weights `model.safetensors` stored as {meta.get('weights_dtype')} (loaded as float32); faces decoded "
        f"from the stored weights differ from the trained ones by at most {metrics['storage_max_pixel_error']:.4f} "
        "(pixels in [0, 1], 64 seeded latents)",
        *([f"- generator: {meta['generator_weights']}"] if meta.get("generator_weights") else []),
        *([f"- weights: {meta['vae_weights']}"] if meta.get("vae_weights") else []),
        "",
        "## Data",
        "",
        *[f"- `{s['spec']}`: {s['images']:,} images ({s.get('skipped', 0)} unreadable skipped)" for s in sources],
        f"- {data.get('train_images', '?'):,} train / {data.get('test_images', '?'):,} test images; split: "
        + "; ".join(sorted({split_of(s) for s in sources})),
        "- the folder holds no dataset images: `samples.png` and `evolution.png` are drawn by the model",
        "",
        "## Training",
        "",
        f"- preset `{run_config['preset']}`: {metrics['epochs']} epochs of {train['epochs']} planned, batch "
        f"{train['batch_size']}, Adam lr {train['learning_rate']:g} betas ({train['adam_beta1']}, {train['adam_beta2']}), "
        f"flip augmentation {'on' if train['flip'] else 'off'}, seed {train['seed']}"
        + (f", lr rising linearly from 0 over the first {train['lr_warmup_epochs']:g} epochs"
           if train.get("lr_warmup_epochs") else "")
        + (f", lr falling linearly to 0 over the last {train['lr_decay_epochs']} epochs"
           if train.get("lr_decay_epochs") else ""),
        *([f"- why {metrics['epochs']} epochs: {metrics['note']}"] if metrics.get("note") else []),
        *continuation_lines(training.get("continued_from") or [], metrics["epochs"]),
        f"- loss: {loss}",
        f"- hardware: {training.get('hardware', training.get('device', 'not recorded'))}, precision "
        f"{training.get('precision', 'not recorded')}, wall time {_duration(training.get('wall_time_s'))}",
        "",
        "## Figures (test split)",
        "",
        "| figure | value |",
        "| --- | --- |",
        figure_rows,
        "",
        f"Measured {metrics['measured']}. {loss_curve_sentence(history)}"
        + (" A Gaussian likelihood is a density over continuous pixels, so its −log-likelihood (and the loss) "
           "goes below zero as σ shrinks." if is_vae and train["recon_loss"] == "gaussian" else ""),
        "",
        "Files: `samples.png` ("
        + ("faces decoded by the stored weights from z drawn from the fitted latent prior, as the app samples "
           "them, once `embed` has fitted it; before that the run's fixed N(0, I) latents" if is_vae else
           "the run's fixed latents decoded by the stored weights")
        + "), `evolution.png` (the run's fixed latents after every epoch, as training drew them; rows listed in "
        "`evolution.json`), `loss_curves.png`, `training_metrics.csv`, `atlas.npz` + `atlas.json` "
        "(the encoded dataset, made by `python -m trainer embed`)"
        + (", `latent_prior.safetensors` (the Gaussian mixture fitted to the training codes, made by the same "
           "command)." if is_vae else "."),
        "",
        *([inversion_section(inversion, name, data_args)] if inversion else []),
        *([evaluation_section(metrics["evaluation"])] if metrics.get("evaluation") else []),
        "## Reproduce",
        "",
        "```bash",
        *reproduce_training(name, run_config["preset"], data_args, training.get("continued_from") or [],
                            metrics["epochs"], train, meta.get("config")),
        *([] if is_vae or inversion else [f"python -m trainer invert --checkpoint checkpoints/{name} {data_args}"]),
        f"python -m trainer embed --checkpoint checkpoints/{name} {data_args}",
        f"python -m trainer evaluate --checkpoint checkpoints/{name} {data_args} --num-samples 10000",
        "```",
        "",
    ]
    return "\n".join(lines)
