"""Train the tutorial's section 5 network three ways on the same data and recipe
(the notebook's NumPy, scikit-learn's MLPClassifier, PyTorch on the CPU), and
report how fast each reaches a given test accuracy, and how accurate NumPy is
over several seeds.

    python benchmarks/train_speed.py            (or: tox -e bench, tox -e bench-torch)
    python benchmarks/train_speed.py --rounds 3 --threads 1 --skip sklearn

The NumPy model code is taken from the notebook itself (the cells tagged
`model-code` and `data-code`), so this measures exactly what readers run, with the
notebook's defaults (epochs, learning rate, dropout) and what section 5 adds to
them: one-pixel shifts (shift_background) and the running average of the
weights (average_decay=0.99), which is what each epoch's test accuracy measures.
PyTorch, when it is installed, trains the same network (Linear, ReLU, Dropout,
Linear) from the same initial weights, with the same optimiser (Adam: the
update torch.optim.Adam computes is the notebook's adam_step, eps added after
the bias correction), cosine schedule, batch size, data, order of the batches,
shift of each batch and weight averaging (its dropout masks are its own). scikit-learn trains its
MLPClassifier of the same size (its own initialisation, Adam at its default
settings, one partial_fit per epoch) on the standardised pixels and on pixels in
[0, 1], until it reaches 97.5% (or --sklearn-epochs), and the better of the two
inputs is reported. A fourth model, "numpy,
threaded Adam", is the notebook's code with the benchmark's own `adam_step` that
splits the update over the threads: a speed-up that would cost the lesson its
clarity, so it lives here only.

Each round trains every model once with the round's seed (NumPy's seed sets its
initial weights, batch order, shifts and dropout masks), so that a noisy machine slows all
of them alike. The data split is the same in every round. Times count training
only (no evaluation) and are medians over the rounds.

The MNIST files are read from _data/ (run the notebook once first) or from
MNIST_SOURCE_DIR. The last line printed is the summary, one key=value per figure:

    numpy_s_to_975, numpy_s_to_980, numpy_s_to_983   NumPy's seconds of training to
                                          reach that test accuracy (inf: never)
    sklearn_s_to_975, sklearn_best_input  the same for scikit-learn, on its better input
    torch_s_to_980                        the same for PyTorch
    ratio                                 numpy_s_to_975 / sklearn_s_to_975
    torch_ratio                           numpy_s_to_980 / torch_s_to_980
                                          (nan if the peer never got there or was skipped)
    numpy_mean_acc, numpy_min_acc         NumPy's test accuracy after the last epoch
                                          (the weights train_network returns), over seeds
    numpy_best_acc                        median over seeds of the best test accuracy
                                          seen after any epoch
    gflops_fraction                       NumPy's matmul work per second of training,
                                          over the measured float32 matmul peak
    threads                               threads given to every model
"""

import argparse
import copy
import math
import os
import statistics
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from notebook_code import notebook_code  # noqa: E402  (the tests' loader)

INPUTS = ("standardised", "raw pixels")
SKLEARN_TARGET = 0.975  # scikit-learn stops there: its later times are not measured


def load_data(data_dir=None, seed=0):
    """The notebook's functions, and the MNIST split into fit, validation and test.

    Returns `nb, data, blanks`: `data[input]` for each of INPUTS is
    (x_fit, y_fit, x_val, y_val, x_test, y_test) in float32, the standardised
    inputs computed from the fit images' statistics as the notebook does;
    `blanks[input]` is what an empty picture becomes (train_network's
    `shift_background`).
    """
    data_dir = Path(data_dir or os.environ.get("MNIST_SOURCE_DIR", REPO / "_data"))
    if not (data_dir / "t10k-labels-idx1-ubyte.gz").is_file():
        raise SystemExit(
            f"No MNIST files in {data_dir}: run the notebook once (it fills _data/), "
            "or pass --data-dir / set MNIST_SOURCE_DIR to a folder with the four files."
        )
    nb = notebook_code()

    def read(name, shape):
        return nb["read_idx"](data_dir / name, shape)

    x_train = read("train-images-idx3-ubyte.gz", (60_000, 28, 28)).reshape(60_000, 784)
    y_train = read("train-labels-idx1-ubyte.gz", (60_000,))
    x_test = read("t10k-images-idx3-ubyte.gz", (10_000, 28, 28)).reshape(10_000, 784)
    y_test = read("t10k-labels-idx1-ubyte.gz", (10_000,))
    order = np.random.default_rng(seed).permutation(len(x_train))
    val, fit = order[:5_000], order[5_000:]
    raw = [
        images.astype(np.float32) / 255
        for images in (x_train[fit], x_train[val], x_test)
    ]
    statistics_of_fit = nb["pixel_statistics"](raw[0])
    standardised = [nb["standardise"](x, *statistics_of_fit) for x in raw]
    labels = (y_train[fit], y_train[val], y_test)
    data = {
        name: (x[0], labels[0], x[1], labels[1], x[2], labels[2])
        for name, x in zip(INPUTS, (standardised, raw))
    }
    empty = np.zeros(784, np.float32)
    blanks = dict(zip(INPUTS, (nb["standardise"](empty, *statistics_of_fit), empty)))
    return nb, data, blanks


def section5_options(args, blank):
    """What section 5 passes to train_network beyond its defaults."""
    options = {"shift_background": blank if args.max_shift else None}
    if args.average_decay:
        options["average_decay"] = args.average_decay
    if getattr(args, "epochs", None):  # profile_step.py has no --epochs
        options["epochs"] = args.epochs
    return options


def matmul_peak_gflops(size=2048, repeats=5):
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a  # warm up the BLAS threads
    best = min(timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


CLOCK = time.perf_counter  # --cpu-time: time.process_time


def timed(work):
    started = CLOCK()
    work()
    return CLOCK() - started


def first_time_at(curve, target):
    """Seconds at which test accuracy first reached `target`, or inf."""
    return next((seconds for seconds, acc in curve if acc >= target), math.inf)


def print_epoch(model, epoch, seconds, test_accuracy):
    print(f"  {model:22s} epoch {epoch:2d}: {seconds:6.2f} s  test {test_accuracy:.4f}")


class RecordingGenerator:
    """A NumPy generator that remembers the permutations and the integers (the
    shift of each batch) it hands out, so that PyTorch can be fed the batches in
    exactly the order, and moved exactly as, NumPy saw them."""

    def __init__(self, seed):
        self.generator = np.random.default_rng(seed)
        self.permutations = []
        self.offsets = []

    def permutation(self, n):
        self.permutations.append(self.generator.permutation(n))
        return self.permutations[-1]

    def integers(self, *args, **kwargs):
        self.offsets.append(self.generator.integers(*args, **kwargs))
        return self.offsets[-1]

    def __getattr__(self, name):
        return getattr(self.generator, name)


def run_numpy(nb, data, blank, seed, args, label="numpy"):
    """Train the notebook's network; returns the test-accuracy curve, the final
    test accuracy, and what PyTorch needs to replay the run.

    The test set stands in for the validation set, so that the history that
    train_network returns records the test accuracy of the network it keeps
    (the averaged weights, if any) after each epoch, beside the seconds of
    training so far (which leave the measurements out)."""
    x_fit, y_fit, _, _, x_test, y_test = data
    rng = RecordingGenerator(seed)
    params = nb["init_network"](rng, args.hidden)
    initial_params = copy.deepcopy(params)
    _, history = nb["train_network"](
        params,
        (x_fit, y_fit),
        (x_test, y_test),
        rng,
        batch_size=args.batch_size,
        show_progress=False,
        **section5_options(args, blank),
    )
    curve = list(zip(history["seconds"], history["validation_accuracy"]))
    for epoch, (seconds, test_accuracy) in enumerate(curve, start=1):
        print_epoch(label, epoch, seconds, test_accuracy)
    return curve, curve[-1][1], initial_params, rng


def threaded_adam_step(adam_step, threads):
    """The notebook's `adam_step`, run on `threads` blocks of rows at once.

    NumPy works on one core, and lets go of the interpreter lock inside its
    loops; so each thread applies the notebook's own update to its block of every
    array (views, updated in place). Faster on several cores, but no code for a
    lesson: this is the benchmark's variant, never the notebook's."""
    pool = ThreadPoolExecutor(threads)

    def blocks(arrays):
        split = [np.array_split(array, threads) for array in arrays.values()]
        return [dict(zip(arrays, parts)) for parts in zip(*split)]

    def step(params, grads, state, step_size):
        block_states = [{"t": state["t"]} for _ in range(threads)]
        for key, arrays in state.items():
            if key != "t":
                for block_state, part in zip(block_states, blocks(arrays)):
                    block_state[key] = part
        work = zip(blocks(params), blocks(grads), block_states)
        list(pool.map(lambda block: adam_step(*block, step_size), work))
        state["t"] += 1

    return step


def run_sklearn(data, seed, args, label):
    from sklearn.neural_network import MLPClassifier

    x_fit, y_fit, _, _, x_test, y_test = data
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden,),
        solver="adam",
        batch_size=args.batch_size,
        random_state=seed,
    )
    curve, seconds = [], 0.0
    for epoch in range(1, args.sklearn_epochs + 1):
        # partial_fit: one epoch that keeps Adam's state (fit would restart it)
        seconds += timed(lambda: model.partial_fit(x_fit, y_fit, classes=np.arange(10)))
        curve.append((seconds, model.score(x_test, y_test)))
        print_epoch(f"sklearn, {label}", epoch, seconds, curve[-1][1])
        if curve[-1][1] >= SKLEARN_TARGET:
            break
    return curve


def run_torch(torch, nb, data, blank, seed, args, initial_params, replay):
    """The same network and recipe in PyTorch, replaying NumPy's batches: their
    order (`replay.permutations`) and their shifts (`replay.offsets`). With
    --average-decay, the test accuracy is the averaged copy's, as in NumPy."""
    x_fit, y_fit, _, _, x_test, y_test = data
    recipe = nb["train_network"].__kwdefaults__
    epochs = args.epochs or recipe["epochs"]
    learning_rate = recipe["learning_rate"]
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, args.hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(recipe.get("dropout", 0.0)),
        torch.nn.Linear(args.hidden, 10),
    )
    with torch.no_grad():  # the NumPy start; Linear keeps weights as (out, in)
        for layer, name in ((model[0], "hidden"), (model[3], "output")):
            layer.weight.copy_(torch.from_numpy(initial_params[f"{name}_weights"].T))
            layer.bias.copy_(torch.from_numpy(initial_params[f"{name}_bias"]))
    averaged = copy.deepcopy(model)  # updated as the notebook's update_average
    optimizer = torch.optim.Adam(
        model.parameters(), lr=learning_rate, betas=(0.9, 0.999), eps=1e-8
    )
    images = torch.from_numpy(x_fit)
    labels = torch.from_numpy(y_fit.astype(np.int64))
    test_images = torch.from_numpy(x_test)
    test_labels = torch.from_numpy(y_test.astype(np.int64))
    blank = torch.from_numpy(np.asarray(blank, np.float32))
    batches_per_epoch = len(x_fit) // args.batch_size
    total_steps = epochs * batches_per_epoch
    curve, seconds, step = [], 0.0, 0
    for epoch in range(1, epochs + 1):
        order = torch.from_numpy(replay.permutations[epoch - 1])
        model.train()
        started = CLOCK()
        for first in range(0, batches_per_epoch * args.batch_size, args.batch_size):
            batch = order[first : first + args.batch_size]
            batch_images = images[batch]
            if args.max_shift:  # as the notebook's shift_batch
                pictures = (batch_images - blank).reshape(-1, 28, 28)
                offset = tuple(int(pixels) for pixels in replay.offsets[step])
                moved = torch.roll(pictures, offset, dims=(1, 2))
                batch_images = moved.reshape(-1, 784) + blank
            for group in optimizer.param_groups:
                group["lr"] = nb["cosine_step_size"](learning_rate, step, total_steps)
            step += 1
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(batch_images), labels[batch])
            loss.backward()
            optimizer.step()
            if args.average_decay:
                decay = args.average_decay
                rate = (1 - decay) / (1 - decay**step)
                with torch.no_grad():
                    for average, weights in zip(
                        averaged.parameters(), model.parameters()
                    ):
                        average.lerp_(weights, rate)
        seconds += CLOCK() - started
        network = averaged if args.average_decay else model
        network.eval()
        with torch.no_grad():
            test_accuracy = (
                (network(test_images).argmax(1) == test_labels).double().mean()
            )
        curve.append((seconds, float(test_accuracy)))
        print_epoch("torch", epoch, seconds, curve[-1][1])
    return curve


def limit_threads(threads):
    """Give NumPy's BLAS (and scikit-learn's) `threads` threads, if threadpoolctl
    is there to do it (it comes with scikit-learn); returns what BLAS reports."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        print("threadpoolctl is not installed: BLAS keeps its default thread count")
        return None
    threadpool_limits(threads)
    return sorted({pool["num_threads"] for pool in threadpool_info()})


def median(values):
    return statistics.median(values) if values else math.inf


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5, help="one seed per round")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, help="default: the notebook's")
    parser.add_argument(
        "--max-shift",
        type=int,
        default=1,
        choices=[0, 1],
        help="section 5's shifts of up to one pixel (0: none)",
    )
    parser.add_argument(
        "--average-decay",
        type=float,
        default=0.99,
        help="section 5's running average of the weights (0: none)",
    )
    parser.add_argument("--sklearn-epochs", type=int, default=20)
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time instead of wall time: with --threads 1, "
        "a comparison that a busy machine disturbs less",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["sklearn", "torch", "variant"],
        help="models to leave out (variant: the NumPy variant with a threaded Adam)",
    )
    args = parser.parse_args()

    nb, data, blanks = load_data(args.data_dir)
    if args.cpu_time:
        global CLOCK
        CLOCK = time.process_time
        nb["time"] = types.SimpleNamespace(perf_counter=CLOCK)  # train_network's
    variant = None
    if "variant" not in args.skip:
        variant = notebook_code()
        variant["time"] = nb["time"]
        variant["adam_step"] = threaded_adam_step(nb["adam_step"], args.threads)
    torch = None
    if "torch" not in args.skip:
        try:
            import torch
        except ImportError:
            print(
                "PyTorch is not installed: skipping it (pip install torch to compare)"
            )
    if "sklearn" not in args.skip:
        import sklearn.neural_network  # noqa: F401  (load its BLAS before limiting)
    blas_threads = limit_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(
        f"threads: {args.threads} for every model (BLAS pools report {blas_threads}"
        + (f", torch {torch.get_num_threads()} ({torch.__version__})" if torch else "")
        + f"); {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
        + ("CPU time" if args.cpu_time else "wall time")
    )
    recipe = nb["train_network"].__kwdefaults__
    print(
        "recipe (the notebook's train_network defaults): "
        + ", ".join(
            f"{key} {recipe[key]}"
            for key in ("epochs", "learning_rate", "dropout")
            if key in recipe
        )
        + f"; shifts of up to {args.max_shift} pixel"
        + f"; weight average decay {args.average_decay or 'none'}"
        + f"; {args.hidden} hidden units, "
        + f"batches of {args.batch_size}"
    )
    peak = matmul_peak_gflops()
    print(f"float32 matmul peak: {peak:.1f} GFLOP/s")

    numpy_label, variant_label = "numpy", "numpy, threaded Adam"
    curves = {numpy_label: []}
    if variant is not None:
        curves[variant_label] = []
    if "sklearn" not in args.skip:
        curves.update({f"sklearn, {name}": [] for name in INPUTS})
    if torch is not None:
        curves["torch"] = []
    final_accuracies = []
    for seed in range(args.first_seed, args.first_seed + args.rounds):
        print(f"round with seed {seed} (load average {os.getloadavg()[0]:.2f})")
        standardised, blank = data["standardised"], blanks["standardised"]
        curve, final_accuracy, initial_params, replay = run_numpy(
            nb, standardised, blank, seed, args
        )
        curves[numpy_label].append(curve)
        final_accuracies.append(final_accuracy)
        if variant is not None:
            curves[variant_label].append(
                run_numpy(variant, standardised, blank, seed, args, variant_label)[0]
            )
        if "sklearn" not in args.skip:
            for name in INPUTS:
                curves[f"sklearn, {name}"].append(
                    run_sklearn(data[name], seed, args, name)
                )
        if torch is not None:
            curves["torch"].append(
                run_torch(
                    torch,
                    nb,
                    standardised,
                    blank,
                    seed,
                    args,
                    initial_params,
                    replay,
                )
            )

    targets = (0.975, 0.98, 0.983)
    seconds_to = {
        model: {
            target: median([first_time_at(curve, target) for curve in runs])
            for target in targets
        }
        for model, runs in curves.items()
    }
    print(
        f"\nmedian seconds of training to a test accuracy, over {args.rounds} rounds "
        f"(inf: not reached), and median seconds per epoch:"
    )
    print(f"{'':24s}" + "".join(f"{target:>8.1%}" for target in targets) + "  s/epoch")
    for model, runs in curves.items():
        per_epoch = median([curve[-1][0] / len(curve) for curve in runs])
        cells = [
            (
                "-"
                if model.startswith("sklearn") and target > SKLEARN_TARGET
                else f"{seconds_to[model][target]:.2f}"
            )
            for target in targets
        ]
        print(
            f"{model:24s}"
            + "".join(f"{cell:>8s}" for cell in cells)
            + f"{per_epoch:9.2f}"
        )
    print(
        f"numpy test accuracy after the last epoch, seeds {args.first_seed}.."
        f"{args.first_seed + args.rounds - 1}: "
        + " ".join(f"{accuracy:.4f}" for accuracy in final_accuracies)
        + f"; mean {statistics.mean(final_accuracies):.4f}"
        + f", min {min(final_accuracies):.4f}, max {max(final_accuracies):.4f}"
    )

    sklearn_975 = {
        name: seconds_to[f"sklearn, {name}"][SKLEARN_TARGET]
        for name in INPUTS
        if f"sklearn, {name}" in curves
    }
    sklearn_best_input = min(sklearn_975, key=sklearn_975.get, default="none")
    sklearn_best_975 = sklearn_975.get(sklearn_best_input, math.inf)
    if math.isinf(sklearn_best_975):  # neither input got there, or skipped
        sklearn_best_input = "none"
    numpy_975, numpy_980, numpy_983 = seconds_to[numpy_label].values()
    torch_980 = seconds_to.get("torch", {}).get(0.98, math.inf)

    numpy_per_epoch = median([c[-1][0] / len(c) for c in curves[numpy_label]])
    samples_per_epoch = (
        len(data["standardised"][0]) // args.batch_size * args.batch_size
    )
    flops_per_sample = 4 * 784 * args.hidden + 6 * args.hidden * 10  # no input grad
    achieved = flops_per_sample * samples_per_epoch / numpy_per_epoch / 1e9

    def ratio(numerator, denominator):
        return "nan" if math.isinf(denominator) else f"{numerator / denominator:.3f}"

    best_accuracies = [max(acc for _, acc in curve) for curve in curves[numpy_label]]
    print(
        f"numpy_s_to_975={numpy_975:.2f} "
        f"sklearn_s_to_975={sklearn_best_975:.2f} "
        f"ratio={ratio(numpy_975, sklearn_best_975)} "
        f"numpy_best_acc={median(best_accuracies):.4f} "
        f"numpy_s_to_980={numpy_980:.2f} "
        f"gflops_fraction={achieved / peak:.3f} "
        f"torch_s_to_980={torch_980:.2f} "
        f"torch_ratio={ratio(numpy_980, torch_980)} "
        f"numpy_s_to_983={numpy_983:.2f} "
        f"numpy_mean_acc={statistics.mean(final_accuracies):.4f} "
        f"numpy_min_acc={min(final_accuracies):.4f} "
        f"sklearn_best_input={sklearn_best_input.replace(' ', '_')} "
        f"threads={args.threads}"
    )


if __name__ == "__main__":
    main()
