import neurovision
from neurovision.backend.trials import draw_trials


def test_bump_peaks_at_the_answer_and_fixation_ends_at_the_decision():
    env = neurovision.load_task("memory-pro", seed=3, dt=20)
    trials = draw_trials(env, 12)
    for i, row in trials.info.iterrows():
        stim = trials.inputs[i, int(row["stimulus_start"])]
        assert int(stim[1:].argmax()) == row["ground_truth"] and stim[0] == 1
        delay = trials.inputs[i, int(row["delay_start"]):int(row["delay_end"]), 1:]
        assert not delay.any()  # the direction is held only in memory
        decision = slice(int(row["decision_start"]), int(row["decision_end"]))
        assert (trials.inputs[i, decision, 0] == 0).all() and (trials.targets[i, decision] == 1 + row["ground_truth"]).all()


def test_listed_with_the_other_tasks():
    assert "memory-pro" in neurovision.task_registry.ids()
