"""The Optuna side of `npm run bench -- --only tune`: Branin and Hartmann-6 minimized by Optuna's TPE.

Usage: /usr/bin/python3 bench/tune_optuna.py FUNCTION SAMPLER SEEDS TRIALS
  FUNCTION  branin | hartmann6
  SAMPLER   tpe-multivariate | tpe | random
Prints one JSON object: {"best": [best value per seed], "sampler_ms": [mean sampler ms per trial per seed]}.
The sampler's time is the trial's time less the objective's (timed inside the objective).
"""
import json
import math
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def branin(x1, x2):
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(x):
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))
        total += ALPHA[i] * math.exp(-inner)
    return -total


def objective_for(name, spent):
    def objective(trial):
        if name == "branin":
            x1 = trial.suggest_float("x1", -5, 10)
            x2 = trial.suggest_float("x2", 0, 15)
            start = time.perf_counter()
            value = branin(x1, x2)
        else:
            x = [trial.suggest_float(f"x{i + 1}", 0, 1) for i in range(6)]
            start = time.perf_counter()
            value = hartmann6(x)
        spent.append(time.perf_counter() - start)
        return value

    return objective


def main():
    name, sampler_name, seeds, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    best, sampler_ms = [], []
    for seed in range(seeds):
        if sampler_name == "random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(seed=seed, multivariate=sampler_name == "tpe-multivariate")
        study = optuna.create_study(direction="minimize", sampler=sampler)
        spent = []
        start = time.perf_counter()
        study.optimize(objective_for(name, spent), n_trials=trials)
        total = time.perf_counter() - start
        best.append(study.best_value)
        sampler_ms.append((total - sum(spent)) * 1000 / trials)
    print(json.dumps({"best": best, "sampler_ms": sampler_ms}))


if __name__ == "__main__":
    main()
