"""``StagedProgress``: one count over a whole job's stages, never going back, with the ETA from the job's rate."""

from __future__ import annotations

import pytest

from ldl_backend.engine.progress import Progress, Stage, StagedProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stages_count_into_one_total_and_the_eta_uses_the_whole_jobs_rate() -> None:
    clock, seen = Clock(), []
    progress = StagedProgress([Stage("a", 2), Stage("b", 6), Stage("c", 2)], seen.append, clock)
    assert progress.total == 10
    progress.start("a")
    clock.now += 1.0
    progress.advance("a", 1)
    clock.now += 1.0
    progress.start("b", "b 1/3")  # stage a's last unit was never reported: entering b counts it
    clock.now += 2.0
    progress.advance("b", 4, "b 2/3")
    progress.finish("c")
    assert [(p.done, p.stage) for p in seen] == [(0, "a"), (1, "a"), (2, "b 1/3"), (6, "b 2/3"), (10, "c")]
    assert seen[0].remaining is None  # nothing measured yet
    assert seen[3].remaining == pytest.approx(4.0 / 6 * 4)  # 6 units in 4 s, 4 left
    assert seen[-1].remaining == 0.0


def test_progress_never_goes_back_and_stays_inside_its_stage() -> None:
    seen: list[Progress] = []
    progress = StagedProgress([Stage("a", 4), Stage("b", 4)], seen.append)
    progress.advance("a", 3)
    progress.advance("a", 1)  # a late, smaller report
    progress.advance("a", 99)  # more than the stage holds
    progress.start("a")
    progress.start("b")
    assert [(p.done, p.stage) for p in seen] == [(3, "a"), (4, "a"), (4, "b")]  # repeats are not reported
    assert all(p.done < p.total for p in seen)


def test_a_nested_tile_count_maps_onto_its_stage() -> None:
    seen: list[Progress] = []
    progress = StagedProgress([Stage("detail", 3), Stage("map", 3)], seen.append)
    report = progress.tiles("detail", lambda plane: f"detail {plane}")
    for done in (1, 2, 3, 4, 5, 6):  # six tiles (colour and alpha) in a stage weighed three units
        report(Progress(done, 6, 0.0, "colour"))
    assert [p.done for p in seen] == [0, 1, 2, 3]  # 1/6 rounds down to 0: no report
    assert seen[-1].stage == "detail colour"


def test_stages_are_checked() -> None:
    with pytest.raises(ValueError, match="needs some work"):
        Stage("map", 0)
    with pytest.raises(ValueError, match="repeat"):
        StagedProgress([Stage("a", 1), Stage("a", 1)], None)
