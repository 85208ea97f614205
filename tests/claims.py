"""The lesson's claims, each checked against the run that prints it.

Each check is a function registered with `@after(cell, claim)`: `cell` is the
tag (`id-...`) of the notebook cell whose results it reads, and `claim` is the
sentence of the prose (or the property of the code) that it guards. The
checks run in the notebook's own kernel, right after that cell
(`check_claims.py` does this), and their parameters are filled from the
notebook's variables of the same names, so a check reads exactly what the
reader's run computed. A check changes nothing in the notebook.

A check must hold on any seed: it builds its own cases where it needs one,
and never hopes for a lucky draw. `tests/test_claims.py` runs every check on
the notebook as it is and with every seed literal changed.
"""

import inspect
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Check:
    name: str
    cell: str
    claim: str
    function: object

    def run(self, namespace):
        """Call the check with the notebook's variables of its parameters."""
        wanted = inspect.signature(self.function).parameters
        missing = [name for name in wanted if name not in namespace]
        if missing:
            raise AssertionError(
                f"the notebook defines no {', '.join(missing)} by the cell "
                f"tagged {self.cell}; was it renamed?"
            )
        self.function(*(namespace[name] for name in wanted))


CHECKS = {}


def after(cell, claim):
    """Register the decorated function as a check of `claim`, run after the
    notebook cell tagged `cell`."""

    def register(function):
        if function.__name__ in CHECKS:
            raise ValueError(f"two checks are named {function.__name__}")
        CHECKS[function.__name__] = Check(function.__name__, cell, claim, function)
        return function

    return register


def run(name, namespace):
    """Entry point inside the kernel: run one check on the notebook's
    variables, and say which claim failed if it does."""
    check = CHECKS[name]
    try:
        check.run(namespace)
    except AssertionError as error:
        detail = f": {error}" if str(error) else ""
        raise AssertionError(
            f"[{check.cell}] {check.claim!r} does not hold{detail}"
        ) from None


# --- 1. Load the MNIST digits -------------------------------------------------


@after("id-fetch", "each file is kept only once its checksum matches")
def cache_holds_only_verified_files(data_dir, mnist_sha256, pooch):
    for file_name, sha256 in mnist_sha256.items():
        path = data_dir / file_name
        assert pooch.file_hash(str(path)) == sha256, file_name
    leftovers = {path.name for path in data_dir.iterdir()}
    leftovers -= set(mnist_sha256) | {"README.md", ".gitignore"}
    assert not leftovers, f"left beside the data files: {sorted(leftovers)}"


@after("id-read-files", "60,000 training and 10,000 test images of 784 bytes")
def files_read_as_described(x_train, x_test, y_train, y_test):
    assert x_train.shape == (60_000, 784) and x_test.shape == (10_000, 784)
    assert y_train.shape == (60_000,) and y_test.shape == (10_000,)
    for array in (x_train, x_test, y_train, y_test):
        assert array.dtype == np.uint8, array.dtype
    assert set(np.unique(y_train)) == set(range(10))
    # the published counts of the first three test digits
    assert np.bincount(y_test).tolist()[:3] == [980, 1135, 1032]


# --- 2. Prepare the data --------------------------------------------------------


@after("id-encode-labels", "pixels scaled into [0, 1] as float64")
def images_scaled_into_unit_range(
    training_images, test_images, training_sample, test_sample
):
    assert training_images.shape == (training_sample, 784)
    assert test_images.shape == (test_sample, 784)
    assert training_images.dtype == test_images.dtype == np.float64
    assert training_images.min() >= 0 and training_images.max() == 1


@after("id-encode-labels", "one-hot: all zero except a one at the digit")
def labels_one_hot(training_labels, test_labels, y_train, y_test):
    for encoded, labels in ((training_labels, y_train), (test_labels, y_test)):
        assert encoded.shape == (len(encoded), 10)
        assert encoded.dtype == np.float64
        assert np.all(encoded.sum(axis=1) == 1)
        assert np.array_equal(encoded.argmax(axis=1), labels[: len(encoded)])


# --- 3. Build and train a small network ---------------------------------------


@after("id-untrained-accuracy", "an untrained guess is right about 1 in 10")
def untrained_network_guesses(untrained_accuracy):
    assert 0.03 < untrained_accuracy < 0.2, untrained_accuracy


@after("id-train-small", "from guessing to reading about eight digits in ten")
def small_network_learns(history, epochs):
    test_accuracy = history["test_accuracy"]
    assert len(test_accuracy) == epochs
    assert test_accuracy[0] < test_accuracy[-1]
    assert 0.75 <= test_accuracy[-1] <= 0.9, test_accuracy
    assert history["test_error"][-1] < history["test_error"][0]


# --- 4. Plot what happened ------------------------------------------------------


@after("id-plot-history", "each curve plots the series its legend names")
def history_plot_shows_history(accuracy_ax, error_ax, history, epochs):
    for axis, measure in ((accuracy_ax, "accuracy"), (error_ax, "error")):
        lines = axis.get_lines()
        assert [line.get_label() for line in lines] == ["training", "test"]
        for line in lines:
            assert np.array_equal(line.get_xdata(), np.arange(1, epochs + 1))
            series = history[f"{line.get_label()}_{measure}"]
            assert np.array_equal(line.get_ydata(), series)


@after("id-gap", "both accuracies climb quickly at first, then more slowly")
def accuracy_climbs_fast_then_slowly(history):
    for split in ("training", "test"):
        curve = history[f"{split}_accuracy"]
        assert curve[4] - curve[0] > curve[-1] - curve[-5], (split, curve)


@after("id-gap", "the training line sits above the test line from epoch 1")
def training_above_test_throughout(gap):
    assert np.all(gap > 0), gap


@after("id-gap", "the gap is wide after one epoch, then roughly level")
def gap_wide_then_level(gap):
    assert gap[0] > 0.05, gap
    assert np.ptp(gap[1:]) < gap[1:].mean() / 2, gap


@after("id-gap", "the test error is still falling over the last ten epochs")
def test_error_still_falling(error_trend, history):
    assert error_trend < 0, history["test_error"]


@after("id-gradient-check-small", "backward is right: both errors at rounding")
def small_gradient_check_passes(check_errors):
    assert set(check_errors) == {"hidden weights", "output weights"}
    assert max(check_errors.values()) < 1e-6, check_errors


@after(
    "id-gradient-check-bugs",
    "output gradients right, hidden wrong; gate-only fix off by exactly 1/3",
)
def small_gradient_check_tells_the_bugs_apart(bug_errors):
    published = bug_errors["backward_as_first_published"]
    gate_only = bug_errors["backward_with_gate_fix_only"]
    for errors in (published, gate_only):
        assert errors["output weights"] < 1e-6, bug_errors
    assert abs(gate_only["hidden weights"] - 1 / 3) < 1e-3, bug_errors
    # an always-open gate adds gradient where the unit was off: never closer
    assert published["hidden weights"] >= gate_only["hidden weights"] - 1e-6


# --- 5. Go further ----------------------------------------------------------------


@after("id-split", "55,000 fit and 5,000 validation images, disjoint")
def split_is_a_partition(fit_index, validation_index):
    assert len(fit_index) == 55_000 and len(validation_index) == 5_000
    assert len(np.intersect1d(fit_index, validation_index)) == 0
    everything = np.sort(np.concatenate([fit_index, validation_index]))
    assert np.array_equal(everything, np.arange(60_000))


@after("id-standardise-check", "every pixel's mean is zero, the spread one")
def fit_inputs_standardised(check_mean, check_spread):
    assert np.abs(check_mean).max() < 1e-4 and abs(check_spread - 1) < 1e-4


@after(
    "id-standardise-check",
    "the fit set's statistics are applied unchanged to all three sets",
)
def one_set_of_statistics_for_all(
    fit_inputs,
    validation_inputs,
    test_inputs,
    fit_index,
    validation_index,
    pixel_mean,
    pixel_spread,
    x_train,
    x_test,
):
    for inputs, pixels in (
        (fit_inputs, x_train[fit_index[:1_000]]),
        (validation_inputs, x_train[validation_index[:1_000]]),
        (test_inputs, x_test[:1_000]),
    ):
        assert inputs.dtype == np.float32
        restored = inputs[:1_000] * pixel_spread + pixel_mean
        assert np.allclose(restored, pixels, atol=1e-3)
    assert len(fit_inputs) == len(fit_index)
    assert len(validation_inputs) == len(validation_index)
    assert len(test_inputs) == len(x_test)
    assert abs(test_inputs.mean()) > 1e-3  # the test set's own mean stays


@after("id-gradient-check", "all four gradients agree to rounding")
def batch_gradients_agree(gradient_errors):
    assert len(gradient_errors) == 4, gradient_errors
    assert max(gradient_errors.values()) < 1e-6, gradient_errors


class FixedOffset:
    """Stands in for a generator: its integers() draws are the given ones."""

    def __init__(self, down, right):
        self.offset = np.array([down, right])

    def integers(self, low, high, size):
        assert size == 2 and low <= self.offset.min() <= self.offset.max()
        assert self.offset.max() < high
        return self.offset


@after(
    "id-shift-batch",
    "moving standardised images = standardising moved pixels",
)
def shift_batch_moves_ink_not_background(
    shift_batch,
    standardise,
    x_train,
    fit_index,
    pixel_mean,
    pixel_spread,
    blank_input,
):
    pictures = x_train[fit_index[:50]]
    for down, right in ((1, -1), (0, 1), (-1, 0), (0, 0)):
        moved_pixels = np.roll(
            pictures.reshape(50, 28, 28), (down, right), axis=(1, 2)
        ).reshape(50, 784)
        expected = standardise(moved_pixels, pixel_mean, pixel_spread)
        moved_inputs = shift_batch(
            standardise(pictures, pixel_mean, pixel_spread),
            FixedOffset(down, right),
            blank_input,
        )
        assert moved_inputs.dtype == np.float32
        assert np.allclose(moved_inputs, expected, atol=1e-5), (down, right)
    assert blank_input.max() == 0 and blank_input.min() < -1


@after(
    "id-shift-batch",
    "the outer ring is blank in all but about one image in a hundred",
)
def outer_ring_rarely_inked(x_train):
    outer_ring = np.ones((28, 28), dtype=bool)
    outer_ring[1:-1, 1:-1] = False
    ring_inked = (x_train.reshape(-1, 28, 28)[:, outer_ring] > 0).any(axis=1)
    assert 0.005 < ring_inked.mean() < 0.02, ring_inked.mean()


@after("id-test-accuracy", "past 98% on the test set")
def section5_passes_98(test_accuracy):
    assert test_accuracy >= 0.983, test_accuracy  # with room


@after("id-test-accuracy", "its standard error is much smaller than 4's")
def section5_standard_error_smaller(test_standard_error, standard_error):
    assert test_standard_error < standard_error / 3


@after("id-section5-gap", "the loss falls most between epochs 1 and 2")
def loss_falls_most_at_first(fit_history):
    loss_curve = fit_history["training_loss"]
    assert loss_curve[0] - loss_curve[1] == max(np.diff(loss_curve) * -1)
    assert loss_curve[-1] < loss_curve[0]


@after("id-section5-gap", "a gap far narrower than section 4's")
def section5_gap_narrower(section5_gap, gap, fit_history):
    validation_curve = fit_history["validation_accuracy"]
    assert validation_curve[-1] > validation_curve[0]
    assert 0 < section5_gap < gap[-1] / 2, (section5_gap, gap[-1])


@after(
    "id-section5-gap",
    "the average is ahead in the first two epochs, by more than three "
    "tenths of a point on average over four, and within a tenth at the end",
)
def average_ahead_early(fit_history):
    ahead = np.subtract(
        fit_history["validation_accuracy"],
        fit_history["latest_validation_accuracy"],
    )
    assert np.all(ahead[:2] > 0) and ahead[:4].mean() > 0.003, ahead
    assert abs(ahead[-1]) <= 0.001, ahead


@after("id-section5-gap", "the accuracy panel plots the lines it names")
def section5_plot_shows_its_series(accuracy_ax, fit_history):
    lines = accuracy_ax.get_lines()
    assert len(lines) == 3
    for line, key in zip(
        lines,
        (
            "training_accuracy",
            "validation_accuracy",
            "latest_validation_accuracy",
        ),
    ):
        assert np.array_equal(line.get_ydata(), fit_history[key]), line.get_label()


@after("id-confusion", "rows are true digits, columns predictions")
def confusion_rows_are_true_digits(confusion, y_test, test_predictions, test_accuracy):
    assert np.array_equal(confusion.sum(axis=1), np.bincount(y_test, minlength=10))
    assert np.array_equal(
        confusion.sum(axis=0), np.bincount(test_predictions, minlength=10)
    )
    assert np.trace(confusion) == round(test_accuracy * len(y_test))


@after("id-confusion", "every row has its largest count on the diagonal")
def confusion_diagonal_largest(confusion):
    assert np.all(confusion.argmax(axis=1) == np.arange(10)), confusion


@after("id-confusion", "the mistakes are spread thinly over many pairs")
def mistakes_spread_thinly(mistakes, confusion):
    assert np.count_nonzero(mistakes) >= 20, mistakes
    # none above 3% of its digit's images
    assert np.all(mistakes < 0.03 * confusion.sum(axis=1, keepdims=True))


@after("id-confusion-plot", "the picture shows the counts, mistakes coloured")
def confusion_plot_shows_counts(ax, heatmap, confusion, mistakes):
    drawn = np.full((10, 10), -1)
    for number in ax.texts:
        column, row = number.get_position()
        drawn[int(row), int(column)] = int(number.get_text())
    assert np.array_equal(drawn, confusion)
    assert np.array_equal(heatmap.get_array(), mistakes)
    assert (ax.get_ylabel(), ax.get_xlabel()) == (
        "true digit",
        "predicted digit",
    )


@after("id-confident-mistakes", "the most confident mistakes, in order")
def most_confident_mistakes_shown(
    most_confident_mistakes,
    wrong,
    test_predictions,
    y_test,
    confidence,
    axes,
):
    shown = most_confident_mistakes
    assert len(shown) == min(24, len(wrong))
    assert np.all(test_predictions[shown] != y_test[shown])
    assert np.all(np.diff(confidence[shown]) <= 0)
    not_shown = np.setdiff1d(wrong, shown)
    assert confidence[shown].min() >= confidence[not_shown].max()
    for panel, index in zip(axes.flat, shown):
        assert panel.get_title().startswith(
            f"true {y_test[index]}, said {test_predictions[index]}"
        )


@after("id-weight-change-plot", "panel k shows how unit k's weights changed")
def weight_change_panels(axes, weight_change, shown_units):
    assert axes.size == shown_units
    for unit in (0, 1, shown_units - 1):
        assert np.array_equal(
            axes.flat[unit].images[0].get_array(),
            weight_change[:, unit].reshape(28, 28),
        )


@after(
    "id-ink-frequency",
    "pixels that no one-pixel move inks kept their weights exactly",
)
def never_inked_weights_unchanged(never_inked, blank_when_moved, weight_change):
    assert never_inked.sum() > 20 and blank_when_moved.sum() > 5
    assert np.all(weight_change[blank_when_moved] == 0)


@after("id-ink-frequency", "rarely inked pixels moved further on average")
def rare_pixels_moved_further(moved, rarely_inked, often_inked):
    assert moved[rarely_inked].mean() > moved[often_inked].mean()


@after(
    "id-ink-frequency",
    "training changes the weights by amounts of a similar size",
)
def change_similar_to_start(moved, rarely_inked, often_inked, starting_hidden_weights):
    start_size = np.abs(starting_hidden_weights).mean()
    ratio = moved[rarely_inked | often_inked].mean() / start_size
    assert 0.5 < ratio < 2, ratio


def _ablation_drops(ablation):
    full = ablation["the recipe"].mean()
    return {row: full - values.mean() for row, values in ablation.items()}


@after("id-ablation-table", "every simpler choice costs accuracy, every run")
def every_simpler_choice_costs(ablation):
    full = ablation["the recipe"]
    for row, values in ablation.items():
        if row != "the recipe":
            assert np.all(values < full), (row, ablation)


@after("id-ablation-table", "squared error costs by far the most")
def squared_error_costs_most(ablation):
    drop = _ablation_drops(ablation)
    squared = "squared error instead of cross-entropy"
    others = [row for row in drop if row not in ("the recipe", squared)]
    assert drop[squared] > 2 * max(drop[row] for row in others), drop


@after(
    "id-ablation-table",
    "plain SGD and 1,000 images come next; standardising and width less",
)
def ablation_order(ablation):
    drop = _ablation_drops(ablation)
    next_largest = (
        "plain SGD (rate 0.1) instead of Adam",
        "1,000 images, 20 epochs",
    )
    smallest = (
        "pixels in [0, 1], not standardised",
        "100 hidden units instead of 512",
    )
    assert min(drop[row] for row in next_largest) > max(
        drop[row] for row in smallest
    ), drop


# --- On your own ------------------------------------------------------------------


@after(
    "id-exercise-more-images",
    "3,000 new images leave a smaller gap than 1,000 images three times",
)
def more_images_smaller_gap(more_images_gaps):
    assert more_images_gaps[3_000] < more_images_gaps[1_000], more_images_gaps


@after(
    "id-exercise-width-plot",
    "each step up in width buys accuracy, the second step less",
)
def width_gains_shrink(width_accuracy, params):
    assert params["hidden_weights"].shape == (784, 512)  # as it says
    first_gain = width_accuracy[1] - width_accuracy[0]
    second_gain = width_accuracy[2] - width_accuracy[1]
    assert 0 < second_gain < first_gain, width_accuracy


@after(
    "id-exercise-no-shifts",
    "without shifts: more training images right, and a wider gap",
)
def no_shifts_fit_closer(shift_results, no_shift_start, starting_hidden_weights):
    # the same start as section 5's network, on any seed
    assert np.array_equal(no_shift_start["hidden_weights"], starting_hidden_weights)
    train_with, validation_with = shift_results["with shifts"]
    train_without, validation_without = shift_results["without"]
    # the validation difference is within noise on some seeds: not claimed
    assert train_without > train_with, shift_results
    assert train_without - validation_without > train_with - validation_with


@after(
    "id-exercise-third-bug",
    "a flipped sign gives a relative error of exactly 1",
)
def flipped_sign_caught(sign_errors):
    assert sign_errors["backward"] < 1e-6, sign_errors
    flipped = sign_errors["backward_with_flipped_sign"]
    assert abs(flipped - 1) < 1e-6, sign_errors


@after(
    "id-exercise-no-dropout",
    "without a dropout mask, forward is the network without dropout",
)
def no_mask_is_no_dropout(forward, relu, weights, test_images):
    no_dropout_scores = relu(test_images[0] @ weights[0]) @ weights[1]
    hidden, scores = forward(test_images[0], *weights, None)
    assert np.array_equal(hidden, relu(test_images[0] @ weights[0]))
    assert np.array_equal(scores, no_dropout_scores)


@after(
    "id-exercise-no-dropout",
    "without dropout the network is ahead, and the gap changes by less "
    "than two standard errors",
)
def no_dropout_ahead_gap_unchanged(
    dropout_results,
    right_by_image,
    gap_change,
    gap_change_error,
    training_images,
    test_images,
):
    assert len(training_images) == len(test_images) == 1_000
    train_on, test_on = dropout_results[True]
    train_off, test_off = dropout_results[False]
    assert train_off > train_on and test_off > test_on, dropout_results
    # the paired change is the change in the gap, by its definition
    for dropout, (training_right, test_right) in right_by_image.items():
        assert training_right.shape == (len(training_images),)
        assert test_right.shape == (len(test_images),)
        assert dropout_results[dropout] == (
            training_right.mean(),
            test_right.mean(),
        )
    assert np.isclose(gap_change, (train_off - test_off) - (train_on - test_on))
    assert abs(gap_change) < 2 * gap_change_error, (
        gap_change,
        gap_change_error,
    )


@after(
    "id-exercise-least-sure",
    "ten right answers, each less sure than any other right answer",
)
def least_sure_right_answers(
    least_sure_right, right, read_as, y_test, confidence_in_reading
):
    other_right = np.setdiff1d(right, least_sure_right)
    assert len(least_sure_right) == 10
    assert np.all(read_as[least_sure_right] == y_test[least_sure_right])
    assert (
        confidence_in_reading[least_sure_right].max()
        <= confidence_in_reading[other_right].min()
    )


@after(
    "id-exercise-momentum",
    "momentum leaves plain SGD far behind; Adam is still ahead",
)
def momentum_between_sgd_and_adam(optimizer_accuracy):
    plain = optimizer_accuracy["plain SGD"]
    momentum = optimizer_accuracy["SGD with momentum"]
    adam = optimizer_accuracy["Adam"]
    assert momentum - plain > 0.05, optimizer_accuracy
    assert adam > momentum, optimizer_accuracy


@after("id-exercise-second-layer", "all six relative errors are at rounding")
def deeper_gradients_agree(deeper_errors):
    assert len(deeper_errors) == 6
    assert max(deeper_errors.values()) < 1e-5, deeper_errors


@after(
    "id-exercise-second-layer",
    "adam_step works unchanged on the deeper network's parameters",
)
def adam_trains_the_deeper_network(
    deeper_params,
    deeper_loss_and_gradients,
    check_images,
    check_targets,
    new_adam_state,
    adam_step,
):
    params = {name: value.copy() for name, value in deeper_params.items()}

    def loss():
        return deeper_loss_and_gradients(params, check_images, check_targets)

    loss_before, state = loss()[0], new_adam_state(params)
    for _ in range(20):
        adam_step(params, loss()[1], state, step_size=1e-3)
    assert loss()[0] < loss_before
