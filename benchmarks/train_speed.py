"""Train the tutorial's section 5 network outside the notebook, and scikit-learn's
MLPClassifier of the same size on the same data, and report how fast each reaches
a given test accuracy.

    python benchmarks/train_speed.py            (or: tox -e bench)

The model code is taken from the notebook itself (the cells tagged `model-code`
and `data-code`), so this measures exactly what readers run. The MNIST files are
read from _data/ (run the notebook once first) or from MNIST_SOURCE_DIR. The last
line printed is the summary, one key=value per figure.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from notebook_code import notebook_code  # noqa: E402  (the tests' loader)


def load_mnist(nb, data_dir):
    def read(name, shape):
        return nb["read_idx"](data_dir / name, shape)

    x_train = read("train-images-idx3-ubyte.gz", (60_000, 28, 28)).reshape(60_000, 784)
    y_train = read("train-labels-idx1-ubyte.gz", (60_000,))
    x_test = read("t10k-images-idx3-ubyte.gz", (10_000, 28, 28)).reshape(10_000, 784)
    y_test = read("t10k-labels-idx1-ubyte.gz", (10_000,))
    return (
        x_train.astype(np.float32) / 255,
        y_train,
        x_test.astype(np.float32) / 255,
        y_test,
    )


def matmul_peak_gflops(size=2048, repeats=5):
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a  # warm up the BLAS threads
    best = min(timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def timed(work):
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def first_time_at(curve, target):
    """Seconds at which test accuracy first reached `target`, or inf."""
    return next((seconds for seconds, acc in curve if acc >= target), float("inf"))


def run_numpy(nb, data, args):
    x_fit, y_fit, x_val, y_val, x_test, y_test = data
    rng = np.random.default_rng(args.seed)
    curve = []

    def record(epoch, params, seconds):
        curve.append((seconds, nb["accuracy"](params, x_test, y_test)))
        print(
            f"  numpy   epoch {epoch}: {seconds:6.2f} s  test accuracy {curve[-1][1]:.4f}"
        )

    params = nb["init_network"](rng, args.hidden)
    options = {"epochs": args.epochs} if args.epochs else {}
    nb["train_network"](
        params,
        x_fit,
        y_fit,
        x_val,
        y_val,
        rng,
        batch_size=args.batch_size,
        after_epoch=record,
        show_progress=False,
        **options,
    )
    return curve


def run_sklearn(data, args):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x_fit, y_fit, _, _, x_test, y_test = data
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden,),
        solver="adam",
        batch_size=args.batch_size,
        max_iter=1,
        warm_start=True,
        random_state=args.seed,
    )
    curve, seconds = [], 0.0
    for epoch in range(1, args.sklearn_epochs + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds += timed(lambda: model.fit(x_fit, y_fit))
        curve.append((seconds, model.score(x_test, y_test)))
        print(
            f"  sklearn epoch {epoch}: {seconds:6.2f} s  test accuracy {curve[-1][1]:.4f}"
        )
        if curve[-1][1] >= 0.975 and epoch >= 3:
            break
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, help="default: the notebook's")
    parser.add_argument("--sklearn-epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--raw-pixels",
        action="store_true",
        help="feed both models pixels in [0, 1] instead of standardised ones",
    )
    args = parser.parse_args()

    data_dir = args.data_dir or Path(os.environ.get("MNIST_SOURCE_DIR", REPO / "_data"))
    if not (data_dir / "t10k-labels-idx1-ubyte.gz").is_file():
        raise SystemExit(
            f"No MNIST files in {data_dir}: run the notebook once (it fills _data/), "
            "or pass --data-dir / set MNIST_SOURCE_DIR to a folder with the four files."
        )
    nb = notebook_code()
    x_train, y_train, x_test, y_test = load_mnist(nb, data_dir)
    order = np.random.default_rng(args.seed).permutation(len(x_train))
    val, fit = order[:5_000], order[5_000:]
    x_fit, x_val = x_train[fit], x_train[val]
    if not args.raw_pixels:  # as the notebook does, for both models
        statistics = nb["pixel_statistics"](x_fit)
        x_fit, x_val, x_test = (
            nb["standardise"](images, *statistics) for images in (x_fit, x_val, x_test)
        )
    data = (x_fit, y_train[fit], x_val, y_train[val], x_test, y_test)

    peak = matmul_peak_gflops()
    print(f"float32 matmul peak: {peak:.1f} GFLOP/s on {os.cpu_count()} cores")
    numpy_curve = run_numpy(nb, data, args)
    sklearn_curve = run_sklearn(data, args)

    numpy_seconds = numpy_curve[-1][0]
    samples = len(fit) // args.batch_size * args.batch_size * len(numpy_curve)
    flops_per_sample = 4 * 784 * args.hidden + 6 * args.hidden * 10
    achieved = flops_per_sample * samples / numpy_seconds / 1e9
    numpy_975 = first_time_at(numpy_curve, 0.975)
    sklearn_975 = first_time_at(sklearn_curve, 0.975)
    print(
        f"numpy_s_to_975={numpy_975:.2f} sklearn_s_to_975={sklearn_975:.2f} "
        f"ratio={numpy_975 / sklearn_975:.3f} "
        f"numpy_best_acc={max(acc for _, acc in numpy_curve):.4f} "
        f"numpy_s_to_980={first_time_at(numpy_curve, 0.98):.2f} "
        f"gflops_fraction={achieved / peak:.3f}"
    )


if __name__ == "__main__":
    main()
