"""fit and evaluate: logging, history, validation, mini-batches, interruption, errors."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_nnfs import datasets, manual_seed, nn, no_grad, optim
from tinygrad_nnfs.train import evaluate, fit


def _classifier(hidden: int = 16) -> nn.Sequential:
    return nn.Sequential(nn.Dense(2, hidden), nn.ReLU(), nn.Dense(hidden, 3))


def _data():
    manual_seed(0)
    return datasets.spiral_data(50, 3)


def test_fit_logs_the_books_line_every_print_every_epochs_and_the_last():
    X, y = _data()
    model = _classifier()
    lines = []
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05)
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optimizer,
        X,
        y,
        epochs=25,
        print_every=10,
        log=lines.append,
    )
    assert [line.split(",")[0] for line in lines] == [
        "epoch: 0",
        "epoch: 10",
        "epoch: 20",
        "epoch: 24",
    ]
    assert lines[0].startswith("epoch: 0, acc: ")
    assert "(data_loss: " in lines[0] and "reg_loss: 0.000), lr: 0.05" in lines[0]


def test_fit_history_matches_a_hand_written_loop():
    X, y = _data()
    model = _classifier()
    optimizer = optim.SGD(model.parameters(), learning_rate=0.5)
    history = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=5, print_every=0)

    X, y = _data()
    twin = _classifier()
    twin_optimizer = optim.SGD(twin.parameters(), learning_rate=0.5)
    loss_fn = nn.SoftmaxCrossEntropy()
    for epoch in range(5):
        loss = loss_fn(twin(X), y)
        assert history["loss"][epoch] == pytest.approx(loss.item(), rel=1e-6)
        twin_optimizer.zero_grad()
        loss.backward()
        twin_optimizer.step()
    assert history["epoch"] == list(range(5))
    np.testing.assert_array_equal(model[0].weights.data, twin[0].weights.data)


def test_fit_reports_regularization_loss_separately():
    X, y = _data()
    model = nn.Sequential(nn.Dense(2, 8, weight_regularizer_l2=1e-2), nn.ReLU(), nn.Dense(8, 3))
    optimizer = optim.Adam(model.parameters())
    history = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=3, print_every=0)
    assert all(reg > 0 for reg in history["reg_loss"])
    assert history["loss"][0] == pytest.approx(history["data_loss"][0] + history["reg_loss"][0])


def test_fit_with_validation_data_reports_it_without_training_on_it():
    X, y = _data()
    X_val, y_val = datasets.spiral_data(20, 3)
    model = _classifier()
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05)
    lines = []
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optimizer,
        X,
        y,
        epochs=3,
        validation_data=(X_val, y_val),
        print_every=1,
        log=lines.append,
    )
    assert len(history["val_loss"]) == 3
    assert "val_acc: " in lines[-1]
    assert (history["val_loss"][-1], history["val_acc"][-1]) == pytest.approx(
        evaluate(model, nn.SoftmaxCrossEntropy(), X_val, y_val)
    )


def test_fit_never_takes_a_gradient_from_validation_samples():
    X, y = _data()
    poisoned_y = np.full_like(y, 2)  # labels that would pull the model elsewhere if used
    runs = []
    for validation in [(X[:10], y[:10]), (X[:10], poisoned_y[:10])]:
        manual_seed(1)
        model = _classifier()
        optimizer = optim.SGD(model.parameters(), learning_rate=0.5)
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            optimizer,
            X,
            y,
            epochs=3,
            validation_data=validation,
            print_every=0,
        )
        runs.append(model[0].weights.data.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_fit_validation_split_holds_samples_out_of_the_gradient():
    X, y = _data()
    model = _classifier()
    optimizer = optim.SGD(model.parameters(), learning_rate=0.5)
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optimizer,
        X,
        y,
        epochs=2,
        validation_split=0.2,
        print_every=0,
    )
    assert len(history["val_acc"]) == 2


def test_fit_mini_batches_take_one_step_per_batch():
    X, y = _data()
    model = _classifier()
    optimizer = optim.SGD(model.parameters())
    fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=2, batch_size=32, print_every=0)
    assert optimizer.iterations == 2 * 5  # ceil(150 / 32) batches per epoch


def test_fit_regression_uses_the_books_precision_accuracy():
    X, y = datasets.sine_data(200)
    model = nn.Sequential(nn.Dense(1, 16), nn.Tanh(), nn.Dense(16, 1))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.01)
    history = fit(model, nn.MeanSquaredError(), optimizer, X, y, epochs=3, print_every=0)
    assert all(0 <= acc <= 1 for acc in history["acc"])


def test_fit_returns_the_history_so_far_on_ctrl_c():
    X, y = _data()
    model = _classifier()
    optimizer = optim.SGD(model.parameters())
    calls = {"n": 0}

    class InterruptingLoss(nn.SoftmaxCrossEntropy):
        def forward(self, outputs, targets):
            calls["n"] += 1
            if calls["n"] == 4:
                raise KeyboardInterrupt
            return super().forward(outputs, targets)

    lines = []
    history = fit(model, InterruptingLoss(), optimizer, X, y, epochs=10, log=lines.append)
    assert history["epoch"] == [0, 1, 2]
    assert "interrupted" in lines[-1]
    assert model(X).shape == (150, 3)  # the model is still usable


def test_fit_after_ctrl_c_the_model_and_optimizer_go_on_training():
    X, y = _data()
    model = _classifier()
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05)

    class InterruptingLoss(nn.SoftmaxCrossEntropy):
        calls = 0

        def forward(self, outputs, targets):
            self.calls += 1
            if self.calls == 4:
                raise KeyboardInterrupt
            return super().forward(outputs, targets)

    first = fit(model, InterruptingLoss(), optimizer, X, y, epochs=10, print_every=0)
    assert first["epoch"] == [0, 1, 2] and optimizer.iterations == 3
    assert all(param.grad is not None for param in model.parameters())  # step 3's, as left
    then = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=20, print_every=0)
    assert optimizer.iterations == 23
    assert then["loss"][0] < first["loss"][0] and then["loss"][-1] < then["loss"][0]


def _press_ctrl_c_at_call(call: int) -> nn.SoftmaxCrossEntropy:
    """A loss that sends this process a real SIGINT (Ctrl-C) during its `call`-th forward."""

    class CtrlC(nn.SoftmaxCrossEntropy):
        calls = 0

        def forward(self, outputs, targets):
            self.calls += 1
            if self.calls == call:
                os.kill(os.getpid(), signal.SIGINT)
            return super().forward(outputs, targets)

    return CtrlC()


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize(
    ("batch_size", "call", "epochs_recorded", "steps"),
    # 3 batches an epoch: stop in the 2nd epoch (mini-batches number epochs from 1, as the
    # book's Model does)
    [(None, 3, [0, 1, 2], 3), (50, 5, [1], 5)],
)
def test_fit_real_ctrl_c_finishes_the_step_then_returns_complete_epochs(
    batch_size, call, epochs_recorded, steps
):
    X, y = _data()
    model = _classifier()
    optimizer = optim.SGD(model.parameters(), learning_rate=0.5)
    lines = []
    history = fit(
        model, _press_ctrl_c_at_call(call), optimizer, X, y,
        epochs=10, batch_size=batch_size, log=lines.append, print_every=0,
    )  # fmt: skip
    assert history["epoch"] == epochs_recorded
    assert optimizer.iterations == steps  # the step Ctrl-C arrived in was completed
    assert lines == [f"interrupted at epoch {len(epochs_recorded)}; returning the history so far"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _seeded_dropout_run(seed):
    manual_seed(seed)
    X, y = datasets.spiral_data(30, 3)
    model = nn.Sequential(nn.Dense(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Dense(16, 3))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.02, decay=1e-3)
    history = fit(
        model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=30, batch_size=32,
        validation_split=0.2, print_every=0,
    )  # fmt: skip
    return history, model.state_dict()


def test_fit_with_the_same_seed_is_bit_identical_with_dropout_and_shuffled_split():
    first_history, first_state = _seeded_dropout_run(7)
    second_history, second_state = _seeded_dropout_run(7)
    assert first_history == second_history  # == on floats: bit-identical
    assert first_state.keys() == second_state.keys()
    for name, weights in first_state.items():
        assert weights.tobytes() == second_state[name].tobytes(), name
    other_history, _ = _seeded_dropout_run(8)
    assert other_history["loss"] != first_history["loss"]  # the seed does drive the run


def test_fit_takes_a_custom_accuracy_for_a_custom_loss():
    X, y = _data()
    model = _classifier()

    def hinge(outputs, targets):
        return (1 - outputs[np.arange(len(targets)), targets]).relu().mean()

    history = fit(
        model,
        hinge,
        optim.SGD(model.parameters()),
        X,
        y,
        epochs=2,
        print_every=0,
        accuracy=lambda outputs, targets: 0.25,
    )
    assert history["acc"] == [0.25, 0.25]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs must be a positive int"),
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"validation_split": 0.2, "validation_data": ([[0.0, 0.0]], [0])}, "not both"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, match):
    X, y = _data()
    model = _classifier()
    with pytest.raises(ValueError, match=match):
        fit(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters()), X, y, **kwargs)


def test_fit_rejects_mismatched_samples():
    X, y = _data()
    model = _classifier()
    with pytest.raises(ValueError, match="X has 150 samples but y has 149"):
        fit(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters()), X, y[:-1])


def test_evaluate_restores_training_mode_and_records_no_graph():
    X, y = _data()
    model = nn.Sequential(nn.Dense(2, 8), nn.ReLU(), nn.Dropout(0.5), nn.Dense(8, 3))
    loss, acc = evaluate(model, nn.SoftmaxCrossEntropy(), X, y, batch_size=40)
    assert model.training
    assert loss > 0 and 0 <= acc <= 1
    assert all(p.grad is None for p in model.parameters())


# ---- the book's Model log (chapters 18-22): mini-batches count steps --------------------------
def _batch_run(**options):
    X, y = _data()
    X_val, y_val = datasets.spiral_data(20, 3)
    model = nn.Sequential(nn.Dense(2, 8, weight_regularizer_l2=1e-3), nn.ReLU(), nn.Dense(8, 3))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=1e-2)
    lines = []
    history = fit(
        model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=2, batch_size=64,
        validation_data=(X_val, y_val), log=lines.append, **options,
    )  # fmt: skip
    return lines, history, model, optimizer


def test_fit_with_mini_batches_logs_the_books_model_lines_counting_steps():
    lines, history, _, _ = _batch_run(print_every=2)  # 150 samples: steps 0, 1, 2
    heads = [line.split(",")[0] for line in lines]
    per_epoch = ["step: 0", "step: 2", "training", "validation"]
    assert heads == ["epoch: 1", *per_epoch, "epoch: 2", *per_epoch]
    assert history["epoch"] == [1, 2]
    assert lines[1].startswith("step: 0, acc: ") and "(data_loss: " in lines[1]
    assert lines[3] == (
        f"training, acc: {history['acc'][0]:.3f}, loss: {history['loss'][0]:.3f} "
        f"(data_loss: {history['data_loss'][0]:.3f}, reg_loss: {history['reg_loss'][0]:.3f}), "
        f"lr: {history['lr'][0]}"
    )
    assert lines[4] == (
        f"validation, acc: {history['val_acc'][0]:.3f}, loss: {history['val_loss'][0]:.3f}"
    )


def test_fit_with_mini_batches_sums_sample_losses_and_hits_as_the_books_model():
    _, history, model, _ = _batch_run(print_every=0)
    X, y = _data()
    datasets.spiral_data(20, 3)  # the validation draw: the twin's weights are the same draws
    twin = nn.Sequential(nn.Dense(2, 8, weight_regularizer_l2=1e-3), nn.ReLU(), nn.Dense(8, 3))
    twin_optimizer = optim.Adam(twin.parameters(), learning_rate=0.05, decay=1e-2)
    loss_fn = nn.SoftmaxCrossEntropy()
    for epoch in range(2):
        loss_sum, hits = 0, 0
        for start in range(0, 150, 64):
            inputs, targets = X[start : start + 64], y[start : start + 64]
            outputs = twin(inputs)
            loss = loss_fn(outputs, targets) + nn.regularization_loss(twin)
            loss_sum += np.sum(loss_fn.sample_losses(outputs, targets))
            exps = np.exp(outputs.data - np.max(outputs.data, axis=1, keepdims=True))
            probabilities = exps / np.sum(exps, axis=1, keepdims=True)  # the book predicts
            hits += np.sum(np.argmax(probabilities, axis=1) == targets)  # from softmax's output
            twin_optimizer.zero_grad()
            loss.backward()
            twin_optimizer.step()
        penalty = nn.regularization_loss(twin).item()  # of the weights after the epoch
        assert history["data_loss"][epoch] == float(loss_sum / 150)
        assert history["reg_loss"][epoch] == penalty
        assert history["acc"][epoch] == hits / 150
        assert history["lr"][epoch] == twin_optimizer.current_learning_rate
    for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)


def test_fit_log_format_can_be_chosen():
    lines, history, _, _ = _batch_run(print_every=1, log_format="epochs")
    assert [line.split(",")[0] for line in lines] == ["epoch: 0", "epoch: 1"]
    assert history["epoch"] == [0, 1]
    X, y = _data()
    model = _classifier()
    lines = []
    fit(
        model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters()), X, y, epochs=1,
        print_every=1, log=lines.append, log_format="steps",
    )  # fmt: skip
    assert [line.split(",")[0] for line in lines] == ["epoch: 1", "step: 0", "training"]
    with pytest.raises(ValueError, match="log_format must be 'epochs', 'steps' or None"):
        fit(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters()), X, y, log_format="x")


def test_regression_accuracy_takes_its_precision_from_the_training_targets():
    X = np.linspace(0, 1, 40).reshape(-1, 1)
    y = np.sin(2 * np.pi * X)
    model = nn.Sequential(nn.Dense(1, 4, dtype=np.float64), nn.ReLU(), nn.Dense(4, 1))
    model[2].weights.data = model[2].weights.data.astype(np.float64)
    model[2].biases.data = model[2].biases.data.astype(np.float64)
    history = fit(
        model, nn.MeanSquaredError(), optim.Adam(model.parameters()), X, y, epochs=1,
        batch_size=10, print_every=0, validation_data=(X[:10], y[:10] + 0.001),
    )  # fmt: skip
    precision = np.std(y) / 250  # of all 40 training targets, not of each batch
    with no_grad():
        outputs = model(X[:10]).data
    expected = np.mean(np.abs(outputs - (y[:10] + 0.001)) < precision)
    assert history["val_acc"] == [expected]


def test_fit_takes_numpy_integers_for_counts():
    X, y = _data()
    model = _classifier()
    optimizer = optim.SGD(model.parameters())
    history = fit(
        model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=np.int64(2),
        batch_size=np.int64(64), print_every=np.int32(0),
    )  # fmt: skip
    assert history["epoch"] == [1, 2] and optimizer.iterations == 6


def test_fit_warns_of_a_nan_loss_at_the_users_fit_line():
    X, y = _data()
    X[0, 0] = 1e38  # float32: the logits overflow
    model = nn.Sequential(nn.Dense(2, 3, weight_scale=1e3))
    with pytest.warns(RuntimeWarning, match="the loss is nan") as caught:
        fit(model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters()), X, y, print_every=0)
    assert {w.filename for w in caught if "the loss" in str(w.message)} == {__file__}


def test_fit_progress_bar_counts_epochs_and_carries_the_log(capsys):
    X, y = _data()
    model = _classifier()
    fit(
        model, nn.SoftmaxCrossEntropy(), optim.SGD(model.parameters()), X, y, epochs=3,
        print_every=1, progress=True,
    )  # fmt: skip
    captured = capsys.readouterr()
    assert "3/3" in captured.err and "epoch" in captured.err  # tqdm's bar, on stderr
    assert captured.out.count("epoch: ") == 3  # the log lines, written above the bar


def test_importing_the_package_and_training_without_a_bar_need_no_tqdm():
    probe = (
        "import sys; sys.modules['tqdm'] = None; import numpy as np; "
        "from tinygrad_nnfs import nn, optim; from tinygrad_nnfs.train import fit; "
        "m = nn.Sequential(nn.Dense(1, 1)); X = np.ones((4, 1), np.float32); "
        "fit(m, nn.MeanSquaredError(), optim.SGD(m.parameters()), X, X, print_every=0); "
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
