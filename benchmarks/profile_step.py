"""Where one epoch of the section 5 training goes: a profile by part of the step.

    python benchmarks/profile_step.py [--rounds 5] [--threads 2] [--cpu-time]
    git show main:content/tutorial-deep-learning-on-mnist.md > /tmp/before.md
    python benchmarks/profile_step.py --notebook /tmp/before.md --notebook content/tutorial-deep-learning-on-mnist.md

Each part runs over every batch of one epoch (55,000 images, batches of 256), as
the notebook's `train_network` does, with the notebook's own functions: gathering
the batches, moving them by a pixel (`shift_batch`), drawing the dropout masks,
`loss_and_gradients` (and, on their own, its five matrix products, on arrays of the
same shapes; the rest of it is elementwise work), `adam_step`, the running average
of the weights (`update_average`), and the validation accuracy measured after each
epoch. The whole
epoch (`train_network` for one epoch) is timed too. With several `--notebook`s (for
a before/after comparison), the versions take turns within each round, so that a
busy machine slows them alike. The table shows medians over the rounds.
"""

import argparse
import inspect
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_speed import limit_threads, load_data, section5_options  # noqa: E402
from notebook_code import NOTEBOOK, notebook_code  # noqa: E402

CLOCK = time.perf_counter  # --cpu-time: time.process_time


def timed(work):
    started = CLOCK()
    work()
    return CLOCK() - started


def epoch_parts(nb, data, blanks, args):
    """The parts of one epoch of `nb`'s training, each a function to time."""
    x_fit, y_fit, x_val, y_val, _, _ = data
    rng = np.random.default_rng(0)
    params = nb["init_network"](rng, args.hidden)
    adam_state = nb["new_adam_state"](params)
    targets = nb["one_hot"](y_fit).astype(np.float32)
    recipe = nb["train_network"].__kwdefaults__
    dropout = recipe.get("dropout", 0.0) if args.dropout is None else args.dropout
    batch_size = args.batch_size
    steps = len(x_fit) // batch_size
    order = rng.permutation(len(x_fit))
    batches = [order[i * batch_size : (i + 1) * batch_size] for i in range(steps)]
    inputs = [x_fit[batch] for batch in batches]
    batch_targets = [targets[batch] for batch in batches]
    mask_shape = (batch_size, args.hidden)

    def dropout_mask():  # as train_network draws it
        return (rng.random(mask_shape, np.float32) >= dropout) / np.float32(1 - dropout)

    masks = [(dropout_mask(),) if dropout else () for _ in range(steps)]
    grads = [None] * steps

    def gather():
        for batch in batches:
            x_fit[batch], targets[batch]

    def shift():
        for images in inputs:
            nb["shift_batch"](images, rng, blanks["standardised"])

    def draw_masks():
        for _ in range(steps):
            dropout_mask()

    def gradients():
        for i in range(steps):
            grads[i] = nb["loss_and_gradients"](
                params, inputs[i], batch_targets[i], "cross_entropy", *masks[i]
            )[1]

    scores_grad = np.ones((batch_size, 10), np.float32)
    hidden = np.ones(mask_shape, np.float32)

    def matmuls():
        hidden_weights = params["hidden_weights"]
        output_weights = params["output_weights"]
        for images in inputs:
            images @ hidden_weights
            hidden @ output_weights
            scores_grad @ output_weights.T
            images.T @ hidden
            hidden.T @ scores_grad

    def adam():
        for i in range(steps):
            nb["adam_step"](params, grads[i], adam_state, 1e-4)

    average = {name: value.copy() for name, value in params.items()}

    def update_average():
        for step in range(1, steps + 1):
            nb["update_average"](average, params, step, args.average_decay)

    def evaluate():
        nb["accuracy"](params, x_val, y_val)

    # section 5's options, less those an older notebook's train_network lacks
    section5 = section5_options(args, blanks["standardised"])
    if "max_shift" in recipe:  # an older notebook: max_shift and blank
        shifting = section5.pop("shift_background") is not None
        section5.update(max_shift=int(shifting), blank=blanks["standardised"])
    options = {key: value for key, value in section5.items() if key in recipe}
    if "dropout" in recipe:
        options["dropout"] = dropout
    averaging = "average_decay" in options
    shifting = options.get("shift_background") is not None or options.get("max_shift")
    # an older notebook's train_network takes the four arrays, not two sets
    in_sets = "training_set" in inspect.signature(nb["train_network"]).parameters
    sets = ((x_fit, y_fit), (x_val, y_val)) if in_sets else (x_fit, y_fit, x_val, y_val)

    def whole_epoch():
        nb["train_network"](
            params, *sets, rng, epochs=1, show_progress=False, **options
        )

    gradients()  # warm up, and fill `grads` for the Adam part
    parts = {
        "gather batches (images[batch], targets[batch])": gather,
        "shift batches (shift_batch)": shift if shifting else None,
        "draw dropout masks": draw_masks if dropout else None,
        "loss_and_gradients": gradients,
        "of which the five matmuls": matmuls,
        "adam_step": adam,
        "average the weights (update_average)": update_average if averaging else None,
        "evaluation (validation accuracy, 5,000 images)": evaluate,
        "whole epoch (train_network, epochs=1)": whole_epoch,
    }
    return dropout, steps, {name: work for name, work in parts.items() if work}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--dropout", type=float, help="default: each notebook's")
    parser.add_argument(
        "--max-shift", type=int, default=1, choices=[0, 1], help="section 5's"
    )
    parser.add_argument(
        "--average-decay", type=float, default=0.99, help="section 5's (0: none)"
    )
    parser.add_argument(
        "--notebook", type=Path, action="append", help=f"default: {NOTEBOOK.name}"
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="count this process's CPU time, not wall time (with --threads 1, a "
        "profile that a busy machine disturbs less)",
    )
    args = parser.parse_args()
    if args.cpu_time:
        global CLOCK
        CLOCK = time.process_time
    notebooks = args.notebook or [NOTEBOOK]

    _, data, blanks = load_data(args.data_dir)
    limit_threads(args.threads)
    profiles = [
        epoch_parts(notebook_code(path), data["standardised"], blanks, args)
        for path in notebooks
    ]
    times = [{name: [] for name in parts} for _, _, parts in profiles]
    for _ in range(args.rounds):
        for (_, _, parts), version_times in zip(profiles, times):
            for name, work in parts.items():
                version_times[name].append(timed(work))

    print(
        f"{args.batch_size} images a batch, {args.hidden} hidden units, float32, "
        f"{args.threads} threads, {'CPU' if args.cpu_time else 'wall'} time, "
        f"median of {args.rounds} rounds, load average {os.getloadavg()[0]:.2f}"
    )
    for path, (dropout, steps, parts), version_times in zip(notebooks, profiles, times):
        median = {
            name: float(np.median(values)) for name, values in version_times.items()
        }
        median["of which elementwise (the rest)"] = (
            median["loss_and_gradients"] - median["of which the five matmuls"]
        )
        epoch = median["whole epoch (train_network, epochs=1)"]
        print(f"\n{path} (dropout {dropout}, {steps} steps an epoch)\n")
        print("| part of one epoch | s per epoch | ms per step | share of the epoch |")
        print("| --- | ---: | ---: | ---: |")
        for name in [*parts, "of which elementwise (the rest)"]:
            print(
                f"| {name} | {median[name]:.3f} | "
                f"{median[name] / steps * 1e3:.2f} | {median[name] / epoch:.0%} |"
            )


if __name__ == "__main__":
    main()
